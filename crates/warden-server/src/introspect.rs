//! Bearer tokens checked at the authorization server (RFC 7662): a form POST with
//! client_secret_basic, bounded in time and size, redirects off. Concurrent checks of one
//! token share one call; an active answer is remembered in the secret cache until
//! min(now + `cache_seconds`, `exp`); inactive tokens and failures never are.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Map, Value};
use tokio::sync::watch;
use warden_core::config::IntrospectionConfig;
use warden_core::introspection::{self, IntrospectionPolicy};
use warden_core::{Authn, Identity};

use crate::cache::{SecretCache, SecretTag};
use crate::clock;
use crate::oidc::http::post_form;

/// Room made in the secret cache for introspected tokens.
pub const CACHE_ENTRIES: usize = 50_000;

/// Why introspection could not be set up at start.
#[derive(Debug, thiserror::Error)]
pub enum IntrospectError {
    /// The client secret could not be read.
    #[error("`authn.introspection`: cannot read the client secret: {0}")]
    Secret(String),
    /// The HTTP client could not be built.
    #[error("`authn.introspection`: {0}")]
    Client(String),
}

/// The introspection client of one configuration.
pub struct Introspector {
    inner: Arc<Inner>,
}

struct Inner {
    endpoint: String,
    client_id: String,
    secret: String,
    policy: IntrospectionPolicy,
    cache_for: Duration,
    timeout: Duration,
    client: reqwest::Client,
    secrets: Arc<SecretCache>,
    /// Calls in flight by token tag: a check of the same token waits for their answer.
    flights: Mutex<HashMap<SecretTag, watch::Receiver<Option<Authn>>>>,
}

/// A check either finds the token remembered or waits for a call's answer.
enum Flight {
    Remembered(Identity),
    Waiting(watch::Receiver<Option<Authn>>),
}

impl Introspector {
    /// Reads the client secret and builds the HTTP client; nothing is called yet.
    pub fn start(
        config: &IntrospectionConfig,
        secrets: Arc<SecretCache>,
    ) -> Result<Self, IntrospectError> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .build()
            .map_err(|e| IntrospectError::Client(e.without_url().to_string()))?;
        let inner = Inner {
            endpoint: config.endpoint.clone(),
            client_id: config.client_id.clone(),
            secret: crate::oidc::read_secret(&config.client_secret)
                .map_err(IntrospectError::Secret)?,
            policy: config.policy.clone(),
            cache_for: config.cache,
            timeout: config.timeout,
            client,
            secrets,
            flights: Mutex::default(),
        };
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// The identity of a token the authorization server vouched for recently.
    pub fn remembered(&self, token: &str) -> Option<Identity> {
        let tag = self.inner.tag(token);
        self.inner.secrets.get(&tag, clock::now_millis())
    }

    /// Asks the authorization server about a token, or joins the call already asking;
    /// `Unavailable` when it cannot answer.
    pub async fn judge(&self, token: &str) -> Authn {
        let mut answer = match self.flight(token) {
            Flight::Remembered(identity) => return Authn::Authenticated(identity),
            Flight::Waiting(answer) => answer,
        };
        match answer.wait_for(Option::is_some).await {
            Ok(verdict) => verdict.clone().unwrap_or(Authn::Unavailable),
            Err(_) => Authn::Unavailable,
        }
    }

    /// The call in flight for this token, or a new one. The cache is read under the lock, so
    /// a call that has just ended (it lands before it answers) is not made again.
    fn flight(&self, token: &str) -> Flight {
        let tag = self.inner.tag(token);
        let mut flights = self.inner.flights();
        if let Some(answer) = flights.get(&tag) {
            return Flight::Waiting(answer.clone());
        }
        if let Some(identity) = self.inner.secrets.get(&tag, clock::now_millis()) {
            return Flight::Remembered(identity);
        }
        let (tx, rx) = watch::channel(None);
        flights.insert(tag, rx.clone());
        drop(flights);
        let landing = Landing {
            inner: Arc::clone(&self.inner),
            tag,
        };
        let token = token.to_owned();
        // A task of its own: a client hanging up does not cancel the call others wait for.
        tokio::spawn(async move {
            let verdict = landing.inner.check(&token, tag).await;
            drop(landing);
            tx.send_replace(Some(verdict));
        });
        Flight::Waiting(rx)
    }
}

/// Takes a call off the in-flight map when it ends, however it ends: a later check of the
/// token calls again rather than wait on an answer that never comes.
struct Landing {
    inner: Arc<Inner>,
    tag: SecretTag,
}

impl Drop for Landing {
    fn drop(&mut self) {
        self.inner.flights().remove(&self.tag);
    }
}

impl Inner {
    fn tag(&self, token: &str) -> SecretTag {
        self.secrets.tag(&["introspection", token])
    }

    fn flights(&self) -> MutexGuard<'_, HashMap<SecretTag, watch::Receiver<Option<Authn>>>> {
        self.flights.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// One call and its verdict; an active token is remembered, unless a revocation came in
    /// meanwhile.
    async fn check(&self, token: &str, tag: SecretTag) -> Authn {
        let epoch = self.secrets.epoch();
        let answer = match tokio::time::timeout(self.timeout, self.call(token)).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(why)) => return unavailable(&why),
            Err(_) => return unavailable("no answer within `timeout_ms`"),
        };
        let now_ms = clock::now_millis();
        let (verdict, exp) = introspection::judge(&answer, &self.policy, now_ms / 1000);
        match &verdict {
            Authn::Authenticated(identity) => {
                let cache_ms = u64::try_from(self.cache_for.as_millis()).unwrap_or(u64::MAX);
                let cap = now_ms.saturating_add(cache_ms);
                let until = exp.map_or(cap, |exp| cap.min(exp.saturating_mul(1000)));
                if until > now_ms {
                    (self.secrets).insert_until(tag, identity.clone(), until, epoch);
                }
            }
            Authn::Unavailable => return unavailable("the answer has no boolean `active`"),
            _ => {}
        }
        verdict
    }

    /// The endpoint's JSON answer; anything but a 200 with a JSON object is an error.
    async fn call(&self, token: &str) -> Result<Map<String, Value>, String> {
        let form = [("token", token), ("token_type_hint", "access_token")];
        let client = (self.client_id.as_str(), self.secret.as_str());
        match post_form(&self.client, &self.endpoint, client, &form).await {
            Ok((StatusCode::OK, answer)) => Ok(answer),
            Ok((status @ (StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN), _)) => Err(format!(
                "status {status}: the endpoint refused warden's client credentials"
            )),
            Ok((status, _)) => Err(format!("status {status}")),
            Err(e) => Err(e.to_string()),
        }
    }
}

fn unavailable(why: &str) -> Authn {
    tracing::warn!(error = why, "token introspection failed; answering 503");
    Authn::Unavailable
}
