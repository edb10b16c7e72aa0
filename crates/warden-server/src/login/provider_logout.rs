//! Logout with an identity provider: the provider tells warden (OIDC Back-Channel Logout,
//! `POST /.warden/oidc/backchannel`), or warden tells the provider (RP-initiated logout: after
//! `/.warden/logout` ends a federated session, the browser goes to `end_session_endpoint`).

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, StatusCode};
use http_body_util::Full;
use serde_json::Value;
use warden_core::oidc::check_logout_token;
use warden_core::response::LOGIN_PATH;
use warden_store::Revocation;
use warden_store::session::FEDERATED_PREFIX;

use super::Flow;
use super::respond::Response;
use crate::clock;
use crate::oidc::{self, LEEWAY, Provider};

/// Where providers POST logout tokens.
pub const BACKCHANNEL_PATH: &str = "/.warden/oidc/backchannel";

impl Flow<'_> {
    /// A logout token from a provider: every session it names ends, on every replica.
    pub(super) async fn backchannel(&self, form: &HashMap<String, String>) -> Response {
        let Some(token) = form.get("logout_token") else {
            return answer(StatusCode::BAD_REQUEST, Some("no logout_token"));
        };
        let providers = self.app.authenticators().providers();
        let Some(provider) = unverified_issuer(token).and_then(|iss| providers.by_issuer(&iss))
        else {
            return answer(StatusCode::BAD_REQUEST, Some("unknown issuer"));
        };
        let Ok(ready) = provider.ready().await else {
            return answer(
                StatusCode::SERVICE_UNAVAILABLE,
                Some("provider keys unavailable"),
            );
        };
        let Some(keys) = ready.keys.current() else {
            return answer(
                StatusCode::SERVICE_UNAVAILABLE,
                Some("provider keys unavailable"),
            );
        };
        let verified = warden_core::jwt::verify_signed(token, &keys, None)
            .map_err(|e| format!("{e:?}"))
            .and_then(|claims| {
                let (iss, aud) = (&provider.config.issuer, &provider.config.client_id);
                check_logout_token(&claims, iss, aud, LEEWAY, clock::now_unix())
                    .map_err(|e| e.to_string())
            });
        let request = match verified {
            Ok(request) => request,
            Err(why) => {
                tracing::warn!(provider = provider.config.name, why, "logout token refused");
                return answer(StatusCode::BAD_REQUEST, Some("invalid logout_token"));
            }
        };
        let store = self.app.store();
        let ended = store.revoke_federated(
            &provider.config.name,
            request.subject.as_deref(),
            request.sid.as_deref(),
            // Sessions begun after the token was issued are not its to end (a replay).
            request.issued_at.saturating_add(LEEWAY as i64),
        );
        match ended.await {
            Ok(ids) => {
                tracing::info!(
                    provider = provider.config.name,
                    subject = request.subject,
                    sessions = ids.len(),
                    "back-channel logout"
                );
                for id in ids {
                    self.app.revoked(Revocation::Session(id)).await;
                }
                answer(StatusCode::OK, None)
            }
            Err(_) => answer(
                StatusCode::SERVICE_UNAVAILABLE,
                Some("session store unavailable"),
            ),
        }
    }

    /// After a federated session ended here: the provider's logout page, if it has one, sent
    /// the ID token it issued and told to come back to the sign-in page.
    pub(super) async fn provider_logout_url(&self) -> Option<String> {
        let token = self.facts.credentials.session.as_deref()?;
        if !token.starts_with(FEDERATED_PREFIX) {
            return None;
        }
        let limits = self.limits();
        let now = clock::now_unix_i64();
        let session = self
            .app
            .store()
            .check_federated_session(token, now, limits)
            .await
            .ok()??;
        let provider = self
            .app
            .authenticators()
            .providers()
            .get(&session.login.provider)?
            .clone();
        end_session_url(
            &provider,
            session.login.id_token.as_deref(),
            self.back_to_login()?,
        )
        .await
    }

    /// The origins of the configured providers' issuers (`https://idp.example`), where a
    /// sign-out may continue.
    pub(super) fn provider_origins(&self) -> Vec<String> {
        (self.login.providers.iter())
            .filter_map(|p| {
                let (scheme, rest) = p.issuer.split_once("://")?;
                let host = rest.split('/').next()?;
                Some(format!("{scheme}://{host}"))
            })
            .collect()
    }

    fn back_to_login(&self) -> Option<String> {
        self.public_url(LOGIN_PATH)
    }
}

async fn end_session_url(
    provider: &Provider,
    id_token: Option<&str>,
    back: String,
) -> Option<String> {
    let ready = provider.ready().await.ok()?;
    let endpoint = ready.metadata.end_session_endpoint.as_deref()?;
    let mut params = vec![
        ("client_id", provider.config.client_id.as_str()),
        ("post_logout_redirect_uri", back.as_str()),
    ];
    if let Some(hint) = id_token {
        params.push(("id_token_hint", hint));
    }
    Some(oidc::authorization_url(endpoint, &params))
}

/// The `iss` of a JWT before verification: only to pick which provider's keys verify it.
fn unverified_issuer(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("iss")?.as_str().map(str::to_owned)
}

/// The back-channel answer: 200 empty, or an OAuth-style JSON error; never cached.
fn answer(status: StatusCode, error: Option<&str>) -> Response {
    let body = error.map_or_else(String::new, |why| {
        serde_json::json!({"error": "invalid_request", "error_description": why}).to_string()
    });
    let mut response = http::Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if error.is_some() {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    if status == StatusCode::SERVICE_UNAVAILABLE {
        headers.insert(http::header::RETRY_AFTER, HeaderValue::from_static("5"));
    }
    response
}
