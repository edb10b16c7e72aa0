//! Judging a routed credential: JWT with the current keys, Basic and API keys in the store.

use std::sync::Arc;

use warden_core::config::Config;
use warden_core::jwt::{self, JwtPolicy};
use warden_core::{AuthMethod, Authn, Credential, Identity, Rejection, TokenProblem};
use warden_store::Store;

use crate::keys::KeyProvider;

/// The authenticators for one configuration.
pub struct Authenticators {
    store: Arc<dyn Store>,
    jwt: Option<(Arc<KeyProvider>, JwtPolicy)>,
}

impl Authenticators {
    /// Builds the authenticators; JWT keys are loaded (or scheduled) here.
    pub async fn new(
        config: &Config,
        store: Arc<dyn Store>,
    ) -> Result<Self, crate::keys::KeyError> {
        let jwt = match &config.jwt {
            Some(j) => Some((KeyProvider::start(j).await?, j.policy.clone())),
            None => None,
        };
        Ok(Self { store, jwt })
    }

    /// The store, for health checks.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Judges one credential at time `now`. A dependency failure is `Unavailable`, never a rejection.
    pub async fn judge(&self, credential: &Credential, now: u64) -> Authn {
        match credential {
            Credential::Jwt(token) => self.judge_jwt(token, now).await,
            Credential::Basic { user, password } => {
                match self.store.check_password(user, password).await {
                    Ok(Some(u)) => authenticated(u.name, u.roles, AuthMethod::Basic),
                    Ok(None) => Authn::Rejected(Rejection::BadPassword),
                    Err(e) => unavailable("user store", &e),
                }
            }
            Credential::ApiKey(key) => match self.store.check_api_key(key).await {
                Ok(Some(k)) => authenticated(k.name, k.roles, AuthMethod::ApiKey),
                Ok(None) => Authn::Rejected(Rejection::InvalidToken(TokenProblem::UnknownApiKey)),
                Err(e) => unavailable("key store", &e),
            },
        }
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
        let verdict = jwt::verify(token, &set, policy, now);
        let unknown_kid =
            verdict == Authn::Rejected(Rejection::InvalidToken(TokenProblem::UnknownKey));
        if unknown_kid
            && keys.refresh_for_unknown_kid().await
            && let Some(set) = keys.current()
        {
            return jwt::verify(token, &set, policy, now);
        }
        verdict
    }
}

fn authenticated(subject: String, roles: Vec<String>, method: AuthMethod) -> Authn {
    Authn::Authenticated(Identity {
        subject,
        roles,
        scopes: Vec::new(),
        method,
    })
}

fn unavailable(what: &str, error: &warden_store::StoreError) -> Authn {
    tracing::error!(error = %error, "{what} unavailable; answering 503");
    Authn::Unavailable
}
