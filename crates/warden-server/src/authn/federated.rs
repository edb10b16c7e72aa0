//! Sessions opened by a sign-in at an identity provider: checked in the store like password
//! sessions, and refreshed at the provider when its tokens are due. A provider that cannot
//! be reached makes the request 503 (the session stays); one that refuses the refresh token
//! ends the session (401, sign in again).

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use warden_core::identity::Claims;
use warden_core::{AuthMethod, Authn, Identity, Rejection};
use warden_store::{FederatedSession, SessionLimits};

use super::{Authenticators, unavailable};
use crate::clock;
use crate::metrics::Dependency;
use crate::oidc::{IdTokenError, Provider, TokenCall};

/// How long a replica holds the turn to refresh a session: longer than a provider call.
const REFRESH_HOLD: i64 = 30;

impl Authenticators {
    /// A `wdf_` session cookie, remembered for half a second like password sessions.
    pub(super) async fn federated_session(
        &self,
        token: &str,
        now: i64,
        limits: SessionLimits,
    ) -> (Authn, Option<Arc<str>>) {
        let tag = self.secrets.tag(&["session", token]);
        let epoch = self.secrets.epoch();
        let now_ms = clock::now_millis();
        let hit = self.secrets.get_with_id(&tag, now_ms);
        crate::metrics::cache(crate::metrics::CacheName::Session, hit.is_some());
        if let Some((identity, id)) = hit {
            return (Authn::Authenticated(identity), id);
        }
        let check = self.store.check_federated_session(token, now, limits);
        let session = match self
            .timed(Dependency::Store, "check_federated_session", check)
            .await
        {
            Ok(Some(session)) => session,
            Ok(None) => return (Authn::Rejected(Rejection::SessionEnded), None),
            Err(e) => return (unavailable("session store", &e), None),
        };
        let due = session.login.refresh_at.is_some_and(|t| now >= t);
        let session = if due {
            match self.refresh(token, session, now, limits).await {
                Ok(session) => session,
                Err(verdict) => return (verdict, None),
            }
        } else {
            session
        };
        let identity = identity(&session);
        let id = session.session.id;
        (self.secrets).insert(tag, identity.clone(), Some(id.as_str()), now_ms, epoch);
        (Authn::Authenticated(identity), Some(Arc::from(id)))
    }

    /// Refreshes the provider's tokens, one refresh per session at a time in this process.
    async fn refresh(
        &self,
        token: &str,
        session: FederatedSession,
        now: i64,
        limits: SessionLimits,
    ) -> Result<FederatedSession, Authn> {
        let id = session.session.id.clone();
        let Some(provider) = self.providers.get(&session.login.provider).cloned() else {
            // The provider left the configuration: nothing can vouch for this session now.
            return Err(self.end(&id, "its provider is no longer configured").await);
        };
        let lock = self.refreshing.lock_for(&id);
        let turn = lock.lock().await;
        // Another request may have refreshed while this one waited.
        let check = self.store.check_federated_session(token, now, limits);
        let session = match self
            .timed(Dependency::Store, "check_federated_session", check)
            .await
        {
            Ok(Some(session)) => session,
            Ok(None) => return Err(Authn::Rejected(Rejection::SessionEnded)),
            Err(e) => return Err(unavailable("session store", &e)),
        };
        let still_due = session.login.refresh_at.is_some_and(|t| now >= t);
        let refresh_token = session.login.refresh_token.clone();
        let result = match refresh_token {
            Some(rt) if still_due => self.refresh_once(&provider, session, &rt, now).await,
            _ => Ok(session),
        };
        drop(turn);
        self.refreshing.release(&id, lock);
        result
    }

    /// Refreshes unless another replica holds the turn (its session stays valid meanwhile);
    /// a refresh that could not reach the provider gives the turn back, so the next request
    /// tries again instead of waiting out the hold.
    async fn refresh_once(
        &self,
        provider: &Provider,
        session: FederatedSession,
        refresh_token: &str,
        now: i64,
    ) -> Result<FederatedSession, Authn> {
        let id = session.session.id.clone();
        match self.store.claim_refresh(&id, now, now + REFRESH_HOLD).await {
            Ok(true) => {}
            Ok(false) => return Ok(session),
            Err(e) => return Err(unavailable("session store", &e)),
        }
        let roles = session.login.roles.clone();
        let result = self
            .refresh_at_provider(provider, session, refresh_token, now)
            .await;
        if matches!(result, Err(Authn::Unavailable)) {
            let store = &self.store;
            if let Err(e) = store
                .update_federated_tokens(&id, None, None, Some(now), &roles)
                .await
            {
                tracing::warn!(session = id, error = %e, "refresh turn not given back; retried after the hold");
            }
        }
        result
    }

    async fn refresh_at_provider(
        &self,
        provider: &Provider,
        mut session: FederatedSession,
        refresh_token: &str,
        now: i64,
    ) -> Result<FederatedSession, Authn> {
        let id = session.session.id.clone();
        let ready = provider
            .ready()
            .await
            .map_err(|_| provider_down(provider))?;
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ];
        let tokens = match provider.token(&ready.metadata, &form).await {
            Ok(TokenCall::Tokens(tokens)) => tokens,
            Ok(TokenCall::Refused(code)) => {
                tracing::info!(
                    provider = provider.config.name,
                    session = id,
                    code,
                    "refresh refused"
                );
                return Err(self.end(&id, "the provider refused the refresh").await);
            }
            Err(e) => {
                tracing::warn!(provider = provider.config.name, error = %e, "refresh failed; answering 503");
                return Err(Authn::Unavailable);
            }
        };
        if let Some(id_token) = tokens.id_token.as_deref() {
            let checked = provider
                .verify_id_token(&ready.keys, id_token, None, clock::now_unix())
                .await;
            match checked {
                Ok(signed_in) if signed_in.subject == session.login.subject => {
                    session.login.roles = signed_in.roles;
                }
                Ok(_) => {
                    return Err(self
                        .end(&id, "the refreshed ID token names someone else")
                        .await);
                }
                Err(IdTokenError::Unavailable) => return Err(provider_down(provider)),
                Err(e) => {
                    tracing::warn!(provider = provider.config.name, problem = ?e, "refreshed ID token refused");
                    return Err(Authn::Unavailable);
                }
            }
        }
        let refresh_at = Some(crate::oidc::refresh_at(now, tokens.expires_in));
        let store = &self.store;
        let updated = store.update_federated_tokens(
            &id,
            tokens.refresh_token.as_deref(),
            tokens.id_token.as_deref(),
            refresh_at,
            &session.login.roles,
        );
        match updated.await {
            Ok(()) => {
                session.login.refresh_at = refresh_at;
                if let Some(rt) = tokens.refresh_token {
                    session.login.refresh_token = Some(rt);
                }
                Ok(session)
            }
            Err(e) if e.is_transient() => Err(unavailable("session store", &e)),
            Err(_) => Err(Authn::Rejected(Rejection::SessionEnded)),
        }
    }

    /// Ends a session the provider no longer vouches for: 401, sign in again.
    async fn end(&self, id: &str, why: &str) -> Authn {
        tracing::info!(session = id, why, "federated session ended");
        match self.store.revoke_session(id).await {
            Ok(()) | Err(warden_store::StoreError::UnknownSession(_)) => {
                self.forget(&warden_store::Revocation::Session(id.to_owned()));
                Authn::Rejected(Rejection::SessionEnded)
            }
            Err(e) => unavailable("session store", &e),
        }
    }
}

/// One lock per session being refreshed, so concurrent requests wait for one refresh.
#[derive(Default)]
pub(super) struct Refreshing {
    locks: std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl Refreshing {
    fn lock_for(&self, id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self
            .locks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Arc::clone(locks.entry(id.to_owned()).or_default())
    }

    /// Drops the session's lock once no other request holds it.
    fn release(&self, id: &str, lock: Arc<tokio::sync::Mutex<()>>) {
        let mut locks = self
            .locks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        drop(lock);
        if locks.get(id).is_some_and(|l| Arc::strong_count(l) == 1) {
            locks.remove(id);
        }
    }
}

fn provider_down(provider: &Provider) -> Authn {
    tracing::warn!(
        provider = provider.config.name,
        "provider unavailable for a refresh; answering 503"
    );
    Authn::Unavailable
}

fn identity(session: &FederatedSession) -> Identity {
    let login = &session.login;
    Identity {
        subject: login.subject.clone(),
        roles: login.roles.clone(),
        scopes: Vec::new(),
        method: AuthMethod::Oidc,
        acr: login.acr.clone(),
        auth_time: login.auth_time.and_then(|t| u64::try_from(t).ok()),
        claims: id_token_claims(login.id_token.as_deref()),
    }
}

/// The claims of the session's ID token (verified when it was issued to us), for rule
/// conditions.
fn id_token_claims(token: Option<&str>) -> Option<Claims> {
    let payload = token?.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    serde_json::from_slice(&bytes).ok().map(Arc::new)
}
