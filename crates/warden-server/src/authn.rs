//! Judging a routed credential: JWT with the current keys; Basic, API keys and sessions in the
//! store. Password and key checks are throttled per client and user before any hashing.

mod federated;

use std::net::IpAddr;
use std::sync::Arc;

use warden_core::config::Config;
use warden_core::jwt::{self, JwtPolicy};
use warden_core::{AuthMethod, Authn, Credential, Identity, Rejection, TokenProblem};
use warden_store::{AttemptKey, AttemptState, Revocation, SessionLimits, Store};

use crate::cache::{SecretCache, SecretTag, TokenCache};
use crate::clock;
use crate::htpasswd::HtpasswdSource;
use crate::introspect::{self, Introspector};
use crate::keys::KeyProvider;
use crate::metrics::{self, CacheName, Dependency};
use crate::oidc::Providers;
use warden_store::HtpasswdCheck;
use warden_store::session::FEDERATED_PREFIX;

/// The authenticators for one configuration.
pub struct Authenticators {
    store: Arc<dyn Store>,
    attempts: Arc<dyn AttemptState>,
    sessions: Option<SessionLimits>,
    jwt: Option<(Arc<KeyProvider>, JwtPolicy)>,
    htpasswd: Option<Arc<HtpasswdSource>>,
    tokens: TokenCache,
    secrets: Arc<SecretCache>,
    /// Password hashes in flight, at most one per core: argon2 takes 12 MiB and tens of ms
    /// each, so a burst waits here instead of exhausting memory and starving every answer.
    hashing: tokio::sync::Semaphore,
    /// Longest wait for a hashing slot: the store's own timeout, so a queue behind a slow
    /// store ends in a 503, not in a request that never answers.
    slot_wait: std::time::Duration,
    /// Identity providers, for the sign-in pages and for refreshing their sessions.
    providers: Arc<Providers>,
    refreshing: federated::Refreshing,
    /// Bearer tokens asked about at the authorization server, when configured.
    introspection: Option<Introspector>,
    /// `sqlite` or `postgresql`, and `memory` or `redis`: metric labels.
    store_kind: &'static str,
    state_kind: &'static str,
}

/// Verified tokens kept (about 30 MiB at most).
const TOKEN_CACHE: usize = 100_000;
/// Recent Basic credentials, API keys and sessions kept.
const SECRET_CACHE: usize = 10_000;

impl Authenticators {
    /// Builds the authenticators; JWT keys are loaded (or scheduled) here.
    pub async fn new(
        config: &Config,
        store: Arc<dyn Store>,
        attempts: Arc<dyn AttemptState>,
    ) -> Result<Self, crate::StartError> {
        let jwt = match &config.jwt {
            Some(j) => Some((KeyProvider::start(j).await?, j.policy.clone())),
            None => None,
        };
        let sessions = config.login.as_ref().map(|l| SessionLimits {
            idle: l.idle,
            absolute: l.absolute,
        });
        let htpasswd = match &config.htpasswd {
            Some(h) => Some(HtpasswdSource::start(h).await?),
            None => None,
        };
        let room = (config.introspection.as_ref()).map_or(0, |_| introspect::CACHE_ENTRIES);
        let secrets = Arc::new(SecretCache::new(SECRET_CACHE + room));
        let introspection = (config.introspection.as_ref())
            .map(|c| Introspector::start(c, Arc::clone(&secrets)))
            .transpose()?;
        Ok(Self {
            store,
            attempts,
            sessions,
            jwt,
            htpasswd,
            tokens: TokenCache::new(TOKEN_CACHE),
            secrets,
            hashing: tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
            ),
            slot_wait: config.store.timeout,
            providers: Arc::new(Providers::start(config)?),
            refreshing: federated::Refreshing::default(),
            introspection,
            store_kind: crate::backends::store_name(&config.store),
            state_kind: crate::backends::state_name(&config.state),
        })
    }

    /// The identity providers.
    pub fn providers(&self) -> &Providers {
        &self.providers
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Failed-attempt counters.
    pub fn attempts(&self) -> &Arc<dyn AttemptState> {
        &self.attempts
    }

    /// The remembered successes, for the revocation listener.
    pub fn secrets(&self) -> Arc<SecretCache> {
        Arc::clone(&self.secrets)
    }

    /// Judges one credential from `client` at time `now`. A dependency failure is
    /// `Unavailable`, never a rejection.
    pub async fn judge(&self, credential: &Credential, client: IpAddr, now: u64) -> Authn {
        match credential {
            Credential::Jwt(token) => self.judge_jwt(token, now).await,
            Credential::Basic { user, password } => {
                let keys = [AttemptKey::Ip(client), AttemptKey::User(user.clone())];
                // Successes of file users are cached per version of the file.
                let file = self.htpasswd.as_ref().map_or(0, |f| f.generation());
                let file = file.to_string();
                let parts = ["basic", file.as_str(), user.as_str(), password.as_str()];
                let tag = self.secrets.tag(&parts);
                let hit = self.secrets.get(&tag, clock::now_millis());
                metrics::cache(CacheName::Basic, hit.is_some());
                if let Some(identity) = hit {
                    return Authn::Authenticated(identity);
                }
                let basic = async { (self.basic(user, password).await, None) };
                let check = self.remembered(tag, Some(&self.hashing), basic);
                self.throttled(&keys, check).await
            }
            Credential::ApiKey(key) => {
                let tag = self.secrets.tag(&["api_key", key.as_str()]);
                let hit = self.secrets.get(&tag, clock::now_millis());
                metrics::cache(CacheName::ApiKey, hit.is_some());
                if let Some(identity) = hit {
                    return Authn::Authenticated(identity);
                }
                let check = self.remembered(tag, None, self.api_key(key));
                self.throttled(&[AttemptKey::Ip(client)], check).await
            }
            Credential::Session(token) => self.session(token, now).await.0,
            Credential::Introspection(token) => self.introspected(token, client).await,
        }
    }

    /// A token the authorization server vouched for recently, or its answer now unless the
    /// client is throttled: an inactive token counts as a failed attempt, like an unknown key.
    async fn introspected(&self, token: &str, client: IpAddr) -> Authn {
        let Some(introspector) = &self.introspection else {
            return Authn::Rejected(Rejection::InvalidToken(TokenProblem::Malformed));
        };
        let hit = introspector.remembered(token);
        metrics::cache(CacheName::Introspection, hit.is_some());
        if let Some(identity) = hit {
            return Authn::Authenticated(identity);
        }
        let check = introspector.judge(token);
        self.throttled(&[AttemptKey::Ip(client)], check).await
    }

    /// Runs a secret check unless the keys are throttled; counts a rejection as a failure.
    async fn throttled(&self, keys: &[AttemptKey], check: impl Future<Output = Authn>) -> Authn {
        let now_ms = clock::now_millis();
        let asked = self.attempts.retry_after(keys, now_ms);
        match self.timed(Dependency::State, "retry_after", asked).await {
            Ok(Some(wait)) => {
                metrics::attempt_block();
                return Authn::Throttled {
                    retry_after: wait.as_secs().max(1),
                };
            }
            Ok(None) => {}
            Err(e) => return unavailable("attempt counters", &e),
        }
        let verdict = check.await;
        if matches!(verdict, Authn::Rejected(_)) {
            let record = self.attempts.record_failure(keys, now_ms);
            if let Err(e) = self
                .timed(Dependency::State, "record_failure", record)
                .await
            {
                return unavailable("attempt counters", &e);
            }
        }
        verdict
    }

    /// Runs a secret check whose success was not found in the cache, and remembers a success
    /// for half a second; only successes are kept, so a flood of wrong guesses neither fills the
    /// cache nor skips the hashing. (A remembered success is answered before the throttle is
    /// asked: it proved the secret moments ago, and it costs no hash and no shared round trip.)
    /// With a `gate`, the check waits for a slot and looks in the cache once more, so a burst
    /// of the same credentials pays for one hash, not one each.
    async fn remembered(
        &self,
        tag: SecretTag,
        gate: Option<&tokio::sync::Semaphore>,
        check: impl Future<Output = (Authn, Option<String>)>,
    ) -> Authn {
        let epoch = self.secrets.epoch();
        let _slot = match gate {
            Some(gate) => match tokio::time::timeout(self.slot_wait, gate.acquire()).await {
                Ok(Ok(slot)) => Some(slot),
                Ok(Err(_)) => return Authn::Unavailable,
                Err(_) => {
                    tracing::warn!(
                        "no password-hashing slot within the store timeout; answering 503"
                    );
                    return Authn::Unavailable;
                }
            },
            None => None,
        };
        let now_ms = clock::now_millis();
        if gate.is_some()
            && let Some(identity) = self.secrets.get(&tag, now_ms)
        {
            return Authn::Authenticated(identity);
        }
        let (verdict, id) = check.await;
        if let Authn::Authenticated(identity) = &verdict {
            (self.secrets).insert(tag, identity.clone(), id.as_deref(), now_ms, epoch);
        }
        verdict
    }

    /// A name in the htpasswd file is checked against the file only; every other name
    /// against the store (which pays a dummy hash for unknown names).
    async fn basic(&self, user: &str, password: &str) -> Authn {
        if let Some(file) = self.htpasswd.as_ref().filter(|f| f.users().contains(user)) {
            return match file.check(user, password).await {
                Some(HtpasswdCheck::Match) => {
                    authenticated(user.to_owned(), file.roles(user), AuthMethod::Basic)
                }
                Some(_) => Authn::Rejected(Rejection::BadPassword),
                None => Authn::Unavailable,
            };
        }
        let check = self.store.check_password(user, password);
        match self.timed(Dependency::Store, "check_password", check).await {
            Ok(Some(u)) => authenticated(u.name, u.roles, AuthMethod::Basic),
            Ok(None) => Authn::Rejected(Rejection::BadPassword),
            Err(e) => unavailable("user store", &e),
        }
    }

    /// An API key, with its public id (which `warden key revoke` names).
    async fn api_key(&self, key: &str) -> (Authn, Option<String>) {
        let check = self.store.check_api_key(key);
        match self.timed(Dependency::Store, "check_api_key", check).await {
            Ok(Some(k)) => (
                authenticated(k.name, k.roles, AuthMethod::ApiKey),
                Some(k.id),
            ),
            Ok(None) => {
                let problem = TokenProblem::UnknownApiKey;
                (Authn::Rejected(Rejection::InvalidToken(problem)), None)
            }
            Err(e) => (unavailable("key store", &e), None),
        }
    }

    /// A session cookie, from the store or remembered for half a second (sign-out and
    /// revocations on any replica forget it at once). Also gives the session's public id.
    pub async fn session(&self, token: &str, now: u64) -> (Authn, Option<Arc<str>>) {
        let (Some(limits), Ok(now)) = (self.sessions, i64::try_from(now)) else {
            return (Authn::Rejected(Rejection::SessionEnded), None);
        };
        if token.starts_with(FEDERATED_PREFIX) {
            return self.federated_session(token, now, limits).await;
        }
        let tag = self.secrets.tag(&["session", token]);
        let epoch = self.secrets.epoch();
        let now_ms = clock::now_millis();
        let hit = self.secrets.get_with_id(&tag, now_ms);
        metrics::cache(CacheName::Session, hit.is_some());
        if let Some((identity, id)) = hit {
            return (Authn::Authenticated(identity), id);
        }
        let check = self.store.check_session(token, now, limits);
        match self.timed(Dependency::Store, "check_session", check).await {
            Ok(Some((session, user))) => {
                let verdict = authenticated(user.name, user.roles, AuthMethod::Session);
                if let Authn::Authenticated(identity) = &verdict {
                    let id = Some(session.id.as_str());
                    (self.secrets).insert(tag, identity.clone(), id, now_ms, epoch);
                }
                (verdict, Some(Arc::from(session.id)))
            }
            Ok(None) => (Authn::Rejected(Rejection::SessionEnded), None),
            Err(e) => (unavailable("session store", &e), None),
        }
    }

    /// Times a call to the store or the shared state, labelled with its backend.
    pub(crate) async fn timed<T, E>(
        &self,
        kind: Dependency,
        operation: &'static str,
        call: impl Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        let backend = match kind {
            Dependency::Store => self.store_kind,
            Dependency::State => self.state_kind,
        };
        metrics::timed(kind, backend, operation, call).await
    }

    /// Forgets every remembered success the revocation touches (this process only).
    pub fn forget(&self, revocation: &Revocation) {
        self.secrets.forget(revocation);
    }

    async fn judge_jwt(&self, token: &str, now: u64) -> Authn {
        let Some((keys, policy)) = &self.jwt else {
            return Authn::Rejected(Rejection::InvalidToken(TokenProblem::UnknownKey));
        };
        let Some(set) = keys.current() else {
            // Never loaded: try once now, and answer 503 rather than judge without keys.
            if keys.refresh_for_unknown_kid().await {
                return Box::pin(self.judge_jwt(token, now)).await;
            }
            tracing::warn!("no JWT keys loaded; answering 503");
            return Authn::Unavailable;
        };
        let hit = self.tokens.get(token, &set, now);
        metrics::cache(CacheName::Jwt, hit.is_some());
        if let Some(identity) = hit {
            return Authn::Authenticated(identity);
        }
        let verdict = self.verify_and_remember(token, &set, policy, now);
        let unknown_kid =
            verdict == Authn::Rejected(Rejection::InvalidToken(TokenProblem::UnknownKey));
        if unknown_kid
            && keys.refresh_for_unknown_kid().await
            && let Some(set) = keys.current()
        {
            return self.verify_and_remember(token, &set, policy, now);
        }
        verdict
    }

    fn verify_and_remember(
        &self,
        token: &str,
        set: &Arc<jwt::KeySet>,
        policy: &JwtPolicy,
        now: u64,
    ) -> Authn {
        let (verdict, until) = jwt::verify_until(token, set, policy, now);
        if let (Authn::Authenticated(identity), Some(until)) = (&verdict, until) {
            self.tokens
                .insert(token, identity.clone(), until, Arc::clone(set));
        }
        verdict
    }
}

fn authenticated(subject: String, roles: Vec<String>, method: AuthMethod) -> Authn {
    // Basic, API keys and password sessions tell nothing of how strongly or when the user
    // authenticated: a step-up rule never lets them in.
    Authn::Authenticated(Identity {
        subject,
        roles,
        scopes: Vec::new(),
        method,
        acr: None,
        auth_time: None,
        claims: None,
    })
}

fn unavailable(what: &str, error: &warden_store::StoreError) -> Authn {
    tracing::error!(error = %error, "{what} unavailable; answering 503");
    Authn::Unavailable
}
