//! Redis shared state for warden replicas: failed-attempt counters every replica sees
//! ([`AttemptState`](crate::AttemptState)) and revocation events fanned out over pub/sub,
//! on a standalone Redis or a Redis Cluster.

mod attempts;
mod bus;
mod conn;
mod url;

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use redis::RedisError;
use tokio::task::JoinHandle;

use crate::{AttemptKey, AttemptLimits, Revocation, StoreError};
use conn::Target;

/// How to reach Redis.
#[derive(Clone)]
pub struct RedisSpec {
    /// One URL (redis:// or rediss://) for a standalone server, or the seed nodes of a cluster.
    pub urls: Vec<String>,
    /// True: `urls` are cluster seed nodes.
    pub cluster: bool,
    /// Prefix of every key and channel (tests use a unique one each).
    pub prefix: String,
    /// Bound on every call: connect and command.
    pub timeout: Duration,
    /// Failed-attempt limits (the same windows as the in-process counters).
    pub limits: AttemptLimits,
}

impl fmt::Debug for RedisSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let urls: Vec<String> = self.urls.iter().map(|u| url::redact(u)).collect();
        f.debug_struct("RedisSpec")
            .field("urls", &urls)
            .field("cluster", &self.cluster)
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .field("limits", &self.limits)
            .finish()
    }
}

/// Failed-attempt counters and revocation fan-out in Redis, shared by every replica.
pub struct RedisState {
    spec: RedisSpec,
    target: Target,
    /// `{<prefix>}`: the hash tag that puts all of a prefix's keys in one cluster slot.
    tag: String,
    channel: String,
}

impl fmt::Debug for RedisState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisState")
            .field("spec", &self.spec)
            .finish_non_exhaustive()
    }
}

impl RedisState {
    /// Checks the URLs and prepares the client; no I/O (connects lazily, so warden starts while Redis is down).
    pub fn new(spec: RedisSpec) -> Result<RedisState, StoreError> {
        let nodes = url::check_all(&spec.urls, spec.cluster)?;
        // Redis hashes a key with an empty `{}` whole, which would scatter one call's keys
        // over several slots and fail the multi-key script with CROSSSLOT.
        if spec.cluster && spec.prefix.is_empty() {
            return Err(StoreError::Url(
                "a redis cluster needs a non-empty key prefix".to_owned(),
            ));
        }
        let target = Target::open(nodes, spec.cluster, spec.timeout)?;
        Ok(RedisState {
            tag: format!("{{{}}}", spec.prefix),
            channel: format!("{}revocations", spec.prefix),
            target,
            spec,
        })
    }

    /// One round trip (PING), bounded by the timeout.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.bounded(async {
            let mut conn = self.target.connection().await?;
            redis::cmd("PING").query_async::<()>(&mut conn).await
        })
        .await
    }

    /// Publishes a revocation to every replica (channel `<prefix>revocations`), bounded by the timeout.
    pub async fn publish(&self, event: &Revocation) -> Result<(), StoreError> {
        self.bounded(async {
            let mut conn = self.target.connection().await?;
            redis::cmd("PUBLISH")
                .arg(&self.channel)
                .arg(event.encode())
                .query_async::<()>(&mut conn)
                .await
        })
        .await
    }

    /// Spawns a task that calls `on_event` for each revocation published under this prefix, forever.
    ///
    /// The task reconnects by itself (one attempt every 500 ms at most) and calls
    /// `on_event(Revocation::All)` after every successful (re)subscription, since events may
    /// have been missed while it was down. Abort the handle to stop it. Must be called within
    /// a Tokio runtime.
    pub fn listen(&self, on_event: Arc<dyn Fn(Revocation) + Send + Sync>) -> JoinHandle<()> {
        let listener = bus::Listener {
            clients: self.target.pubsub_clients(),
            channel: self.channel.clone(),
            timeout: self.spec.timeout,
            on_event,
        };
        tokio::spawn(listener.run())
    }

    /// The key of one failed-attempt counter; user names are hashed so any name fits.
    fn attempt_key(&self, key: &AttemptKey) -> String {
        match key {
            AttemptKey::Ip(ip) => format!("{}att:ip:{ip}", self.tag),
            AttemptKey::User(name) => format!("{}att:user:{}", self.tag, sha256_hex(name)),
        }
    }

    /// Runs one Redis exchange within the timeout, so a hung server costs one bounded wait.
    async fn bounded<T>(
        &self,
        exchange: impl Future<Output = Result<T, RedisError>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(self.spec.timeout, exchange).await {
            Ok(result) => result.map_err(|e| self.error(e)),
            Err(_) => Err(self.timed_out()),
        }
    }

    /// The client's own connect and response timeouts are reported like ours.
    fn error(&self, e: RedisError) -> StoreError {
        if e.is_timeout() {
            return self.timed_out();
        }
        StoreError::Redis(e)
    }

    fn timed_out(&self) -> StoreError {
        let ms = u64::try_from(self.spec.timeout.as_millis()).unwrap_or(u64::MAX);
        StoreError::Timeout("redis", ms)
    }
}

/// Lowercase hex SHA-256, the form user names take in keys.
fn sha256_hex(text: &str) -> String {
    use std::fmt::Write as _;
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, text.as_bytes());
    digest
        .as_ref()
        .iter()
        .fold(String::with_capacity(64), |mut out, b| {
            // Writing to a String cannot fail.
            let _ = write!(out, "{b:02x}");
            out
        })
}
