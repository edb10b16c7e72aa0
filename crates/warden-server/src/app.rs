//! One request in, one answer out: reserved paths, facts, engine, authenticators, rendering.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use http::{HeaderMap, Method, Uri};
use warden_core::facts::{self, ForwardSource, RequestParts};
use warden_core::{
    Decision, Engine, Flavour, Outcome, RenderContext, RequestFacts, Step, Verdict, render,
};

use warden_store::{RedisState, Revocation};

use crate::audit::Audit;
use crate::authn::Authenticators;
use crate::clock;
use crate::health::Health;
use crate::metrics::{self, DecisionMetrics};
use crate::proxy::Upstream;

/// Reserved path prefix; nothing under it is ever judged as an application path.
pub const RESERVED: &str = "/.warden/";

/// Everything one loaded configuration needs to answer requests.
pub struct App {
    engine: Engine,
    authenticators: Authenticators,
    upstream: Option<Upstream>,
    ids: DecisionIds,
    /// Redis, when replicas share state: revocations are published there.
    redis: Option<Arc<RedisState>>,
    /// The task applying other replicas' revocations; ends with this app (reload, exit).
    listener: Option<tokio::task::JoinHandle<()>>,
    metrics: DecisionMetrics,
    audit: Option<Arc<Audit>>,
}

impl Drop for App {
    fn drop(&mut self) {
        if let Some(listener) = &self.listener {
            listener.abort();
        }
    }
}

/// A full evaluation, for the server and for `warden check`.
#[derive(Debug)]
pub struct Evaluation {
    /// What was judged.
    pub facts: RequestFacts,
    /// The decision.
    pub decision: Decision,
    /// The rendered answer.
    pub outcome: Outcome,
    /// The decision id.
    pub decision_id: String,
}

impl App {
    /// Wires an engine to its authenticators; with Redis, starts listening for revocations.
    pub fn new(
        engine: Engine,
        authenticators: Authenticators,
        redis: Option<Arc<RedisState>>,
    ) -> Self {
        let config = engine.config();
        let upstream = (config.proxy.as_ref()).map(|p| Upstream::new(p, &config.identity_headers));
        let listener = redis.as_ref().map(|redis| {
            let secrets = authenticators.secrets();
            redis.listen(Arc::new(move |event| {
                if event == Revocation::All {
                    // Sent after every (re)subscription: events may have been missed.
                    tracing::info!("listening for revocations from other replicas");
                }
                secrets.forget(&event);
            }))
        });
        Self {
            metrics: DecisionMetrics::new(&config.rules),
            engine,
            authenticators,
            upstream,
            ids: DecisionIds::new(),
            redis,
            listener,
            audit: None,
        }
    }

    /// Writes an audit line per decision to `audit`.
    #[must_use]
    pub fn with_audit(mut self, audit: Option<Arc<Audit>>) -> Self {
        self.audit = audit;
        self
    }

    /// The audit writer, when `[audit]` is on.
    pub fn audit(&self) -> Option<&Arc<Audit>> {
        self.audit.as_ref()
    }

    /// The authenticators.
    pub fn authenticators(&self) -> &Authenticators {
        &self.authenticators
    }

    /// Applies a revocation made here at once, and tells the other replicas. A failed publish
    /// is only logged: the store already refuses the credential, and no replica remembers a
    /// success longer than half a second.
    pub async fn revoked(&self, revocation: Revocation) {
        self.authenticators.forget(&revocation);
        if let Some(redis) = &self.redis
            && let Err(e) = redis.publish(&revocation).await
        {
            tracing::warn!(error = %e, "revocation not broadcast; other replicas see it within 1 s");
        }
    }

    /// The upstream, in reverse-proxy mode.
    pub fn upstream(&self) -> Option<&Upstream> {
        self.upstream.as_ref()
    }

    /// A fresh decision id (for answers that are not decisions, such as upstream failures).
    pub fn next_id(&self) -> String {
        self.ids.next()
    }

    /// The engine in force.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Judges a request the way the given endpoint flavour reads it.
    pub async fn evaluate(&self, req: RequestParts<'_>, flavour: Flavour) -> Evaluation {
        let source = match flavour {
            Flavour::Generic => ForwardSource::Forwarded,
            Flavour::Nginx => ForwardSource::NginxOriginal,
        };
        self.evaluate_from(req, flavour, source).await
    }

    /// Judges a request, reading the original request from the given headers.
    pub async fn evaluate_from(
        &self,
        req: RequestParts<'_>,
        flavour: Flavour,
        source: ForwardSource,
    ) -> Evaluation {
        let started = Instant::now();
        let config = self.engine.config();
        let facts = facts::read(req, config, source);
        let now = clock::now_unix();
        let (decision, credential) = match self.engine.begin(&facts, now) {
            Step::Decided(decision) => (decision, None),
            Step::Authenticate(pending) => {
                let authn = (self.authenticators)
                    .judge(&pending.credential, facts.client, now)
                    .await;
                let kind = metrics::authenticator_of(&pending.credential);
                (self.engine.finish(pending, authn, &facts, now), Some(kind))
            }
        };
        let decision_id = self.ids.next();
        let ctx = RenderContext {
            config,
            facts: &facts,
            flavour,
            decision_id: &decision_id,
        };
        let outcome = render(&decision, &ctx);
        crate::decision_log::log(&facts, &decision, &outcome, &decision_id);
        let judged = Judged {
            facts: &facts,
            decision: &decision,
            outcome: &outcome,
            decision_id: &decision_id,
            authenticator: metrics::authenticator(&decision, credential),
        };
        self.record(&judged, started.elapsed());
        Evaluation {
            facts,
            decision,
            outcome,
            decision_id,
        }
    }

    /// Counts a decision and writes its audit line.
    fn record(&self, judged: &Judged<'_>, took: Duration) {
        let status = real_status(judged.outcome);
        let outcome = metrics::outcome(&judged.decision.verdict, status);
        let rule = judged.decision.rule.as_ref().map(|r| r.index);
        let authenticator = judged.authenticator;
        self.metrics.record(rule, outcome, authenticator, took);
        let Some(audit) = &self.audit else { return };
        let allowed = matches!(judged.decision.verdict, Verdict::Allow(_));
        if audit.wants(allowed) {
            audit.write(&crate::audit::line(judged, outcome, status, took));
        }
    }

    /// The store.
    pub fn store(&self) -> &std::sync::Arc<dyn warden_store::Store> {
        self.authenticators.store()
    }

    /// Failed-attempt counters.
    pub fn attempts(&self) -> &std::sync::Arc<dyn warden_store::AttemptState> {
        self.authenticators.attempts()
    }

    /// Reads the facts of a request for the sign-in pages: as forwarded by a trusted proxy, or
    /// as received in reverse-proxy mode.
    pub fn facts(&self, req: RequestParts<'_>) -> RequestFacts {
        let source = if self.upstream.is_some() {
            ForwardSource::Direct
        } else {
            ForwardSource::Forwarded
        };
        facts::read(req, self.engine.config(), source)
    }

    /// Health: whether each dependency the configuration needs answers now.
    pub async fn health(&self) -> Health {
        let config = self.engine.config();
        let store = self.authenticators.store().ping();
        let state = async {
            match &self.redis {
                Some(redis) => Some(redis.ping().await),
                None => None,
            }
        };
        let (store, state) = tokio::join!(store, state);
        Health::new(config, store, state)
    }
}

/// Decision ids: a per-process random prefix and a counter — unique, cheap, sortable per process.
struct DecisionIds {
    prefix: u32,
    counter: AtomicU64,
}

impl DecisionIds {
    fn new() -> Self {
        use std::hash::{BuildHasher, RandomState};
        let prefix = RandomState::new().hash_one(std::process::id()) as u32;
        Self {
            prefix,
            counter: AtomicU64::new(0),
        }
    }

    fn next(&self) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        // 8 hex digits of prefix, 10 of counter (wrapping after 2^40 ids); no `format!` on
        // the hot path.
        let n = self.counter.fetch_add(1, Ordering::Relaxed) & ((1 << 40) - 1);
        let id = u128::from(self.prefix) << 40 | u128::from(n);
        (0..18u32)
            .rev()
            .map(|digit| char::from(HEX[(id >> (4 * digit)) as usize & 0xf]))
            .collect()
    }
}

/// Builds request parts from the pieces of a request (and for `warden check`, from arguments).
pub fn parts<'a>(
    method: &'a Method,
    uri: &'a Uri,
    headers: &'a HeaderMap,
    peer: IpAddr,
    tls: bool,
) -> RequestParts<'a> {
    RequestParts {
        method,
        uri,
        headers,
        peer,
        tls,
    }
}

/// Shared handle to the app.
pub type SharedApp = Arc<App>;

/// One finished decision, for the metrics and the audit line.
pub(crate) struct Judged<'a> {
    pub facts: &'a RequestFacts,
    pub decision: &'a Decision,
    pub outcome: &'a Outcome,
    pub decision_id: &'a str,
    pub authenticator: &'static str,
}

/// The status the decision really has: the nginx flavour sends some as another and names the
/// real one in a header.
fn real_status(outcome: &Outcome) -> u16 {
    let mapped = outcome.headers.get(warden_core::response::STATUS_HEADER);
    mapped
        .and_then(|v| v.to_str().ok()?.parse().ok())
        .unwrap_or_else(|| outcome.status.as_u16())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decision_ids_are_prefix_then_counter_in_hex() {
        let ids = DecisionIds {
            prefix: 0x69802f01,
            counter: AtomicU64::new(0x13_5288),
        };
        assert_eq!(ids.next(), "69802f010000135288");
        assert_eq!(ids.next(), "69802f010000135289");
        ids.counter.store((1 << 40) - 1, Ordering::Relaxed);
        assert_eq!(ids.next(), "69802f01ffffffffff");
        assert_eq!(ids.next(), "69802f010000000000");
    }
}
