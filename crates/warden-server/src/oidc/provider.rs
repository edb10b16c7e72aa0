//! One configured identity provider at run time: its client secret, its discovered
//! metadata and keys (fetched on first need, kept once good), and its token endpoint.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use warden_core::TokenProblem;
use warden_core::config::{KeySource, OidcProvider};
use warden_core::jwt::{self};
use warden_core::oidc::{IdTokenCheck, OidcTokenProblem, SignedIn, check_id_token};

use super::http::{self, CallError};
use crate::keys::KeyProvider;

/// After a failed discovery, calls fail at once for this long before one tries again.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(2);
/// How often the provider's keys are fetched again.
const KEYS_REFRESH: Duration = Duration::from_secs(300);
/// How long discovered metadata is used before it is fetched again (kept if that fails).
const METADATA_REFRESH: Duration = Duration::from_secs(3600);
/// After a failed refresh of metadata still in use, the next try waits this long.
const STALE_RETRY: Duration = Duration::from_secs(60);
/// Clock skew allowed on ID tokens.
pub const LEEWAY: u64 = 30;

/// What discovery told us, checked.
#[derive(Debug)]
pub struct Metadata {
    /// Where browsers are sent to sign in.
    pub authorization_endpoint: String,
    /// Where codes and refresh tokens are exchanged.
    pub token_endpoint: String,
    /// RP-initiated logout, when offered.
    pub end_session_endpoint: Option<String>,
    /// RFC 9207: the provider puts `iss` in every authorization response.
    pub iss_in_response: bool,
}

/// A provider ready to use: metadata and keys.
pub struct Ready {
    /// The metadata.
    pub metadata: Arc<Metadata>,
    /// The provider's signing keys.
    pub keys: Arc<KeyProvider>,
}

/// The provider cannot be used right now (discovery or keys unreachable): answer 503.
#[derive(Debug, Clone, Copy)]
pub struct Unavailable;

/// What a token endpoint call gave.
#[derive(Debug)]
pub enum TokenCall {
    /// Tokens.
    Tokens(Tokens),
    /// The provider refused (`invalid_grant` and friends): the code or refresh token is dead.
    Refused(String),
}

/// A token response.
pub struct Tokens {
    /// The ID token, when sent.
    pub id_token: Option<String>,
    /// A refresh token, when sent.
    pub refresh_token: Option<String>,
    /// Seconds the access token lives, when said.
    pub expires_in: Option<i64>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// Why an ID token was not accepted.
#[derive(Debug, Clone, Copy)]
pub enum IdTokenError {
    /// No keys could be loaded: not judged.
    Unavailable,
    /// Signature or header.
    Token(TokenProblem),
    /// Claims.
    Claims(OidcTokenProblem),
}

/// The last good discovery: metadata, the keys at its `jwks_uri`, and when it was fetched.
#[derive(Clone)]
struct Discovered {
    metadata: Arc<Metadata>,
    jwks_uri: String,
    keys: Arc<KeyProvider>,
    at: Instant,
}

impl Discovered {
    fn ready(&self) -> Ready {
        Ready {
            metadata: self.metadata.clone(),
            keys: self.keys.clone(),
        }
    }

    fn fresh(&self) -> bool {
        self.at.elapsed() < METADATA_REFRESH
    }
}

/// One provider.
pub struct Provider {
    /// Its configuration.
    pub config: OidcProvider,
    secret: String,
    client: reqwest::Client,
    ready: RwLock<Option<Discovered>>,
    /// Serialises discovery and remembers when it last failed.
    discovering: tokio::sync::Mutex<Option<Instant>>,
}

impl Provider {
    /// A provider whose discovery happens on first use.
    pub fn new(config: OidcProvider, secret: String, client: reqwest::Client) -> Self {
        Self {
            config,
            secret,
            client,
            ready: RwLock::new(None),
            discovering: tokio::sync::Mutex::new(None),
        }
    }

    /// Metadata and keys, discovering them on first use and again every hour; the last
    /// good discovery stays in use while the provider cannot be reached.
    pub async fn ready(&self) -> Result<Ready, Unavailable> {
        let known = self.cached();
        if let Some(d) = known.as_ref().filter(|d| d.fresh()) {
            return Ok(d.ready());
        }
        // With metadata in hand, nobody waits for its refresh: one request does it.
        let mut last_failure = match (&known, self.discovering.try_lock()) {
            (_, Ok(guard)) => guard,
            (Some(d), Err(_)) => return Ok(d.ready()),
            (None, Err(_)) => self.discovering.lock().await,
        };
        let known = self.cached();
        if let Some(d) = known.as_ref().filter(|d| d.fresh()) {
            return Ok(d.ready());
        }
        if last_failure.is_some_and(|t| t.elapsed() < RETRY_AFTER_FAILURE) {
            return known.map(|d| d.ready()).ok_or(Unavailable);
        }
        match self.discover(known.as_ref()).await {
            Ok(found) => {
                if let Ok(mut slot) = self.ready.write() {
                    *slot = Some(found.clone());
                }
                *last_failure = None;
                Ok(found.ready())
            }
            Err(e) => {
                tracing::warn!(provider = self.config.name, error = %e, "OpenID Provider discovery failed");
                *last_failure = Some(Instant::now());
                let known = known.ok_or(Unavailable)?;
                // Keep the last good metadata; try again in a minute, not on every request.
                let retry = Instant::now().checked_sub(METADATA_REFRESH - STALE_RETRY);
                if let (Some(at), Ok(mut slot)) = (retry, self.ready.write()) {
                    *slot = Some(Discovered {
                        at,
                        ..known.clone()
                    });
                }
                Ok(known.ready())
            }
        }
    }

    fn cached(&self) -> Option<Discovered> {
        self.ready.read().ok()?.clone()
    }

    async fn discover(&self, known: Option<&Discovered>) -> Result<Discovered, CallError> {
        let url = format!(
            "{}/.well-known/openid-configuration",
            self.config.issuer.trim_end_matches('/')
        );
        let doc = http::get_json(&self.client, &url).await?;
        let (metadata, jwks_uri) = self.check_metadata(&doc)?;
        let keys = match known.filter(|d| d.jwks_uri == jwks_uri) {
            Some(d) => d.keys.clone(),
            None => {
                let keys = KeyProvider::from_source(KeySource::Url(jwks_uri.clone()), KEYS_REFRESH)
                    .await
                    .map_err(|e| CallError::Down(e.to_string()))?;
                if keys.current().is_none() {
                    return Err(CallError::Down(
                        "the provider's keys could not be loaded".into(),
                    ));
                }
                keys
            }
        };
        Ok(Discovered {
            metadata: Arc::new(metadata),
            jwks_uri,
            keys,
            at: Instant::now(),
        })
    }

    /// OIDC Discovery §4.3: the issuer must be exactly the configured one.
    fn check_metadata(&self, doc: &Map<String, Value>) -> Result<(Metadata, String), CallError> {
        if doc.get("issuer").and_then(Value::as_str) != Some(self.config.issuer.as_str()) {
            return Err(CallError::Bad("discovery names another issuer".into()));
        }
        let s256 = doc
            .get("code_challenge_methods_supported")
            .and_then(Value::as_array)
            .is_none_or(|m| m.iter().any(|v| v == "S256"));
        if !s256 {
            return Err(CallError::Bad(
                "the provider does not offer PKCE S256".into(),
            ));
        }
        let metadata = Metadata {
            authorization_endpoint: self.endpoint(doc, "authorization_endpoint")?,
            token_endpoint: self.endpoint(doc, "token_endpoint")?,
            end_session_endpoint: self.endpoint(doc, "end_session_endpoint").ok(),
            iss_in_response: doc
                .get("authorization_response_iss_parameter_supported")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        };
        Ok((metadata, self.endpoint(doc, "jwks_uri")?))
    }

    fn endpoint(&self, doc: &Map<String, Value>, name: &str) -> Result<String, CallError> {
        let url = doc
            .get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| CallError::Bad(format!("discovery has no `{name}`")))?;
        let ok =
            url.starts_with("https://") || (self.config.allow_http && url.starts_with("http://"));
        if !ok {
            return Err(CallError::Bad(format!("`{name}` is not an https URL")));
        }
        Ok(url.to_owned())
    }

    /// Calls the token endpoint with this client's credentials.
    pub async fn token(
        &self,
        metadata: &Metadata,
        form: &[(&str, &str)],
    ) -> Result<TokenCall, CallError> {
        let basic = (self.config.client_id.as_str(), self.secret.as_str());
        let (status, body) =
            http::post_form(&self.client, &metadata.token_endpoint, basic, form).await?;
        let text = |name: &str| body.get(name).and_then(Value::as_str).map(str::to_owned);
        if status == reqwest::StatusCode::OK {
            return Ok(TokenCall::Tokens(Tokens {
                id_token: text("id_token"),
                refresh_token: text("refresh_token"),
                expires_in: body.get("expires_in").and_then(Value::as_i64),
            }));
        }
        match text("error") {
            // RFC 6749 §5.2: our own credentials refused is our fault, not the user's.
            Some(code)
                if code != "invalid_client" && status == reqwest::StatusCode::BAD_REQUEST =>
            {
                Ok(TokenCall::Refused(code))
            }
            _ => Err(CallError::Bad(format!("token endpoint status {status}"))),
        }
    }

    /// Verifies an ID token's signature with the provider's keys (refetched once for an
    /// unknown `kid`), then its claims.
    pub async fn verify_id_token(
        &self,
        keys: &KeyProvider,
        token: &str,
        nonce: Option<&str>,
        now: u64,
    ) -> Result<SignedIn, IdTokenError> {
        let claims = match signed(keys, token) {
            Err(IdTokenError::Token(TokenProblem::UnknownKey))
                if keys.refresh_for_unknown_kid().await =>
            {
                signed(keys, token)?
            }
            other => other?,
        };
        let check = IdTokenCheck {
            issuer: &self.config.issuer,
            client_id: &self.config.client_id,
            nonce,
            subject_claim: &self.config.subject_claim,
            roles_claim: self.config.roles_claim.as_deref(),
            leeway: LEEWAY,
        };
        check_id_token(&claims, &check, now).map_err(IdTokenError::Claims)
    }
}

fn signed(keys: &KeyProvider, token: &str) -> Result<Map<String, Value>, IdTokenError> {
    let set = keys.current().ok_or(IdTokenError::Unavailable)?;
    jwt::verify_signed(token, &set, None).map_err(IdTokenError::Token)
}
