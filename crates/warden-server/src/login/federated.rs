//! Sign-in through an identity provider: `/.warden/oidc/start` sends the browser there
//! (authorization code, PKCE S256, state, nonce), `/.warden/oidc/callback` takes it back,
//! checks everything (state bound to this browser and used once, RFC 9207 `iss`, the ID
//! token), and opens a session like the password form does.

use http::StatusCode;
use warden_core::response::LOGIN_PATH;
use warden_store::{FederatedLogin, PendingSignIn};

use super::respond::{self, Page, Response};
use super::{Flow, cookies, page, query_map};
use crate::clock;
use crate::oidc::http::CallError;
use crate::oidc::{self, IdTokenError, LEEWAY, Provider, TokenCall};

/// Where providers send browsers back.
pub const CALLBACK_PATH: &str = "/.warden/oidc/callback";
/// Where the sign-in buttons point.
pub const START_PATH: &str = "/.warden/oidc/start";

/// What a rule asked for beyond a plain sign-in (RFC 9470 step-up).
#[derive(Debug, Default, Clone)]
pub struct StepUp {
    /// Space-separated ACR values.
    pub acr_values: Option<String>,
    /// Largest age of the authentication, in seconds.
    pub max_age: Option<i64>,
}

impl StepUp {
    /// The step-up parameters of a query (`acr_values`, `max_age`), when well-formed.
    pub fn from_query(query: &std::collections::HashMap<String, String>) -> Self {
        let acr_values = query.get("acr_values").filter(|v| {
            !v.is_empty() && v.len() <= 256 && v.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
        });
        let max_age = query.get("max_age").and_then(|v| v.parse::<u32>().ok());
        Self {
            acr_values: acr_values.cloned(),
            max_age: max_age.map(i64::from),
        }
    }

    /// True when the rule asked for more than a plain sign-in.
    pub fn asked(&self) -> bool {
        self.acr_values.is_some() || self.max_age.is_some()
    }
}

/// The link of a sign-in button, carrying the return address and any step-up asked.
pub fn start_href(provider: &str, rd: &str, step: &StepUp) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("provider", provider)
        .append_pair("rd", rd);
    if let Some(acr) = &step.acr_values {
        query.append_pair("acr_values", acr);
    }
    if let Some(max_age) = step.max_age {
        query.append_pair("max_age", &max_age.to_string());
    }
    format!("{START_PATH}?{}", query.finish())
}

impl Flow<'_> {
    /// A sign-in button: `?provider=NAME&rd=…` (and step-up parameters).
    pub(super) async fn start_federated(&self) -> Response {
        let query = query_map(self.query);
        let name = query.get("provider").map_or("", String::as_str);
        let Some(provider) = self.app.authenticators().providers().get(name).cloned() else {
            let text = "This sign-in provider is not configured here.";
            return Page::new(
                StatusCode::NOT_FOUND,
                page::message("Not found", text, Some((LOGIN_PATH, "Back to sign in"))),
            )
            .into();
        };
        let rd = self.return_to(query.get("rd").map(String::as_str));
        self.send_to_provider(&provider, &rd, &StepUp::from_query(&query))
            .await
    }

    /// Remembers a new sign-in (once, server side) and sends the browser to the provider.
    pub(super) async fn send_to_provider(
        &self,
        provider: &Provider,
        rd: &str,
        step: &StepUp,
    ) -> Response {
        let Ok(ready) = provider.ready().await else {
            return provider_unavailable(provider);
        };
        let (Some(state), Some(nonce), Some(verifier), Some(callback)) = (
            oidc::random(),
            oidc::random(),
            oidc::random(),
            self.callback_url(),
        ) else {
            return respond::unavailable();
        };
        let now = clock::now_unix_i64();
        let pending = PendingSignIn {
            provider: provider.config.name.clone(),
            nonce,
            code_verifier: verifier,
            return_to: rd.to_owned(),
            acr_values: step.acr_values.clone(),
            max_age: step.max_age,
            created_at: now,
            expires_at: now + cookies::OIDC_STATE_SECONDS,
        };
        if self
            .app
            .store()
            .put_pending_sign_in(&state, &pending)
            .await
            .is_err()
        {
            return respond::unavailable();
        }
        let scope = provider.config.scopes.join(" ");
        let challenge = oidc::pkce_challenge(&pending.code_verifier);
        let max_age = step.max_age.map(|m| m.to_string());
        let mut params = vec![
            ("response_type", "code"),
            ("client_id", provider.config.client_id.as_str()),
            ("redirect_uri", callback.as_str()),
            ("scope", scope.as_str()),
            ("state", state.as_str()),
            ("nonce", pending.nonce.as_str()),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ];
        if let Some(acr) = step.acr_values.as_deref() {
            params.push(("acr_values", acr));
        }
        if let Some(max_age) = max_age.as_deref() {
            params.push(("max_age", max_age));
        }
        if step.asked() {
            params.push(("prompt", "login"));
        }
        let url = oidc::authorization_url(&ready.metadata.authorization_endpoint, &params);
        respond::found(&url, vec![cookies::oidc_state(self.facts, &state)])
    }

    /// The absolute callback URL registered at the provider.
    fn callback_url(&self) -> Option<String> {
        self.public_url(CALLBACK_PATH)
    }

    /// The provider sent the browser back.
    pub(super) async fn callback(&self) -> Response {
        let query = query_map(self.query);
        let clear = cookies::clear_oidc_state(self.facts);
        let Some(state) = query.get("state").filter(|s| self.state_is_ours(s)) else {
            return bad_callback(
                "This sign-in was not started in this browser, or it has already finished.",
                clear,
            );
        };
        let pending = match self
            .app
            .store()
            .take_pending_sign_in(state, clock::now_unix_i64())
            .await
        {
            Ok(Some(pending)) => pending,
            Ok(None) => {
                return bad_callback("This sign-in has expired or was already used.", clear);
            }
            Err(_) => return respond::unavailable(),
        };
        let Some(provider) = self
            .app
            .authenticators()
            .providers()
            .get(&pending.provider)
            .cloned()
        else {
            return bad_callback("This sign-in provider is no longer configured here.", clear);
        };
        if let Some(error) = query.get("error") {
            return provider_said_no(&provider, error, &pending.return_to, clear);
        }
        match self.redeem(&provider, &query, &pending).await {
            Ok(login) => self.open_federated(&login, &pending.return_to, clear).await,
            Err(response) => response,
        }
    }

    /// Double submit: the `state` the provider echoed is the one this browser's cookie holds.
    fn state_is_ours(&self, state: &str) -> bool {
        let cookie = warden_core::cookies::value(self.headers, cookies::OIDC_STATE);
        cookie.is_some_and(|c| {
            !c.is_empty()
                && aws_lc_rs::constant_time::verify_slices_are_equal(c.as_bytes(), state.as_bytes())
                    .is_ok()
        })
    }

    /// Checks the response's `iss`, exchanges the code, verifies the ID token.
    async fn redeem(
        &self,
        provider: &Provider,
        query: &std::collections::HashMap<String, String>,
        pending: &PendingSignIn,
    ) -> Result<FederatedLogin, Response> {
        let clear = || cookies::clear_oidc_state(self.facts);
        let ready = provider
            .ready()
            .await
            .map_err(|_| provider_unavailable(provider))?;
        // RFC 9207 §2.4: a wrong `iss` (or none from a provider that promised one) is a
        // mix-up attack or a forgery.
        let iss_ok = match query.get("iss") {
            Some(iss) => *iss == provider.config.issuer,
            None => !ready.metadata.iss_in_response,
        };
        let code = query.get("code").filter(|c| !c.is_empty());
        let (true, Some(code), Some(callback)) = (iss_ok, code, self.callback_url()) else {
            return Err(bad_callback(
                "The provider's answer does not match this sign-in.",
                clear(),
            ));
        };
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", callback.as_str()),
            ("code_verifier", pending.code_verifier.as_str()),
        ];
        let tokens = match provider.token(&ready.metadata, &form).await {
            Ok(TokenCall::Tokens(tokens)) => tokens,
            Ok(TokenCall::Refused(_)) => {
                return Err(bad_callback(
                    "The provider refused this sign-in code: it was already used or has expired.",
                    clear(),
                ));
            }
            Err(CallError::Down(_)) => return Err(provider_unavailable(provider)),
            Err(CallError::Bad(e)) => return Err(provider_broken(provider, &e)),
        };
        let Some(id_token) = tokens.id_token else {
            return Err(provider_broken(
                provider,
                "no id_token in the token response",
            ));
        };
        let now = clock::now_unix();
        let signed_in = match provider
            .verify_id_token(&ready.keys, &id_token, Some(&pending.nonce), now)
            .await
        {
            Ok(signed_in) => signed_in,
            Err(IdTokenError::Unavailable) => return Err(provider_unavailable(provider)),
            Err(e) => {
                tracing::warn!(provider = provider.config.name, problem = ?e, "ID token refused");
                return Err(bad_callback(
                    "The provider's answer did not verify.",
                    clear(),
                ));
            }
        };
        let now = clock::now_unix_i64();
        let fresh = |max_age: i64| {
            signed_in
                .auth_time
                .is_some_and(|t| now - t <= max_age + LEEWAY as i64)
        };
        if !pending.max_age.is_none_or(fresh) {
            return Err(bad_callback(
                "The provider did not sign you in again as asked.",
                clear(),
            ));
        }
        let refresh_at =
            (tokens.refresh_token.as_ref()).map(|_| oidc::refresh_at(now, tokens.expires_in));
        Ok(FederatedLogin {
            provider: provider.config.name.clone(),
            subject: signed_in.subject,
            roles: signed_in.roles,
            acr: signed_in.acr,
            amr: signed_in.amr,
            auth_time: signed_in.auth_time,
            sid: signed_in.sid,
            refresh_token: tokens.refresh_token,
            id_token: Some(id_token),
            refresh_at,
        })
    }

    /// A new session (the browser's old one ended first), then back where the user was going.
    async fn open_federated(&self, login: &FederatedLogin, rd: &str, clear: String) -> Response {
        let Ok(current) = self.current_user().await else {
            return respond::unavailable();
        };
        if let Some((old, _)) = current
            && self.end_session(&old).await.is_err()
        {
            return respond::unavailable();
        }
        let now = clock::now_unix_i64();
        match self
            .app
            .store()
            .create_federated_session(login, now, self.limits())
            .await
        {
            Ok(session) => {
                tracing::info!(provider = login.provider, subject = login.subject, session = session.record.id, client = %self.facts.client, "signed in");
                let set = vec![
                    cookies::session(self.facts, &session.token, self.login.absolute),
                    cookies::marker(true),
                    clear,
                ];
                respond::see_other(rd, set)
            }
            Err(_) => respond::unavailable(),
        }
    }
}

/// 400: a callback that does not belong to a sign-in in progress; nothing was stored.
fn bad_callback(text: &str, clear: String) -> Response {
    Page::new(
        StatusCode::BAD_REQUEST,
        page::message("Sign-in failed", text, Some((LOGIN_PATH, "Start again"))),
    )
    .cookie(clear)
    .into()
}

/// 503: discovery, keys or the token endpoint cannot be reached.
fn provider_unavailable(provider: &Provider) -> Response {
    let text = format!(
        "{} is unavailable right now, so you cannot sign in with it. Try again shortly.",
        provider.config.display_name
    );
    Page::new(
        StatusCode::SERVICE_UNAVAILABLE,
        page::message("Provider unavailable", &text, None),
    )
    .retry_after(5)
    .into()
}

/// 502: the provider answered something warden cannot use (its configuration is wrong).
fn provider_broken(provider: &Provider, why: &str) -> Response {
    tracing::warn!(
        provider = provider.config.name,
        why,
        "unusable answer from the OpenID Provider"
    );
    let text = format!(
        "{} gave an answer warden cannot use. Tell the administrator.",
        provider.config.display_name
    );
    Page::new(
        StatusCode::BAD_GATEWAY,
        page::message("Sign-in failed", &text, None),
    )
    .into()
}

/// The provider said no (`error=access_denied`, …): say so, and offer to start again.
fn provider_said_no(provider: &Provider, error: &str, rd: &str, clear: String) -> Response {
    let name = &provider.config.display_name;
    let (status, text) = match error {
        "access_denied" => (
            StatusCode::FORBIDDEN,
            format!("{name} did not sign you in: access was denied."),
        ),
        "temporarily_unavailable" | "server_error" => {
            return provider_unavailable(provider);
        }
        "login_required" | "interaction_required" | "consent_required" => (
            StatusCode::FORBIDDEN,
            format!("{name} did not sign you in: it needs you to sign in or consent there first."),
        ),
        _ => (
            StatusCode::BAD_REQUEST,
            format!("{name} could not sign you in."),
        ),
    };
    tracing::info!(
        provider = provider.config.name,
        error,
        "the provider refused the sign-in"
    );
    let again = format!(
        "{LOGIN_PATH}?rd={}",
        form_urlencoded::byte_serialize(rd.as_bytes()).collect::<String>()
    );
    Page::new(
        status,
        page::message("Not signed in", &text, Some((&again, "Try again"))),
    )
    .cookie(clear)
    .into()
}
