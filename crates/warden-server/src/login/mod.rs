//! `/.warden/login` and `/.warden/logout`: the sign-in form, sessions and sign-out, with CSRF
//! protection, throttling before any password hashing, and safe return addresses.
//!
//! These pages answer their own form outcomes (an expired form, too many attempts); access
//! decisions for every other path are rendered by `warden_core::render`.

mod cookies;
mod federated;
mod page;
mod provider_logout;
mod respond;

use std::collections::HashMap;

use http::{Method, StatusCode};
use http_body_util::{BodyExt as _, Limited};
use hyper::body::Incoming;
use warden_core::Authn;
use warden_core::RequestFacts;
use warden_core::config::LoginConfig;
use warden_core::redirect::safe_return;
use warden_core::response::LOGIN_PATH;
use warden_store::{AttemptKey, Revocation, SessionLimits};

use crate::app::App;
use crate::clock;
use crate::metrics::Dependency;
use federated::StepUp;
use page::Notice;
use respond::{Page, Response};

/// Largest form body accepted.
const MAX_FORM: usize = 16 * 1024;

/// Handles a request under `/.warden/login` or `/.warden/logout`.
pub async fn handle(app: &App, facts: &RequestFacts, req: http::Request<Incoming>) -> Response {
    let (head, body) = req.into_parts();
    let (method, path) = (&head.method, head.uri.path());
    let Some(login) = app.engine().config().login.as_ref() else {
        return Page::new(
            StatusCode::NOT_FOUND,
            page::message("Not found", "Sign-in is not enabled.", None),
        )
        .into();
    };
    let query = head.uri.query().unwrap_or("");
    let flow = Flow {
        app,
        facts,
        login,
        headers: &head.headers,
        query,
    };
    match (path, method) {
        (LOGIN_PATH, &Method::GET | &Method::HEAD) => flow.show_login().await,
        (LOGIN_PATH, &Method::POST) if !login.password => respond::method_not_allowed(),
        (LOGIN_PATH, &Method::POST) => match read_form(body).await {
            Some(form) => flow.submit_login(&form).await,
            None => flow.bad_form(),
        },
        (federated::START_PATH, &Method::GET | &Method::HEAD) => flow.start_federated().await,
        (federated::CALLBACK_PATH, &Method::GET) => flow.callback().await,
        (provider_logout::BACKCHANNEL_PATH, &Method::POST) => match read_form(body).await {
            Some(form) => flow.backchannel(&form).await,
            None => flow.bad_form(),
        },
        ("/.warden/logout", &Method::GET | &Method::HEAD) => flow.show_logout().await,
        ("/.warden/logout", &Method::POST) => match read_form(body).await {
            Some(form) => flow.submit_logout(&form).await,
            None => flow.bad_form(),
        },
        _ => respond::method_not_allowed(),
    }
}

async fn read_form(body: Incoming) -> Option<HashMap<String, String>> {
    let bytes = Limited::new(body, MAX_FORM)
        .collect()
        .await
        .ok()?
        .to_bytes();
    Some(form_urlencoded::parse(&bytes).into_owned().collect())
}

struct Flow<'a> {
    app: &'a App,
    facts: &'a RequestFacts,
    login: &'a LoginConfig,
    headers: &'a http::HeaderMap,
    /// The query of the request itself (never a forwarded one).
    query: &'a str,
}

impl Flow<'_> {
    fn limits(&self) -> SessionLimits {
        SessionLimits {
            idle: self.login.idle,
            absolute: self.login.absolute,
        }
    }

    /// The absolute URL of one of warden's own paths, as browsers and providers reach it:
    /// `[login] public_url`, else the origin of the request (trusted proxies' headers included).
    fn public_url(&self, path: &str) -> Option<String> {
        let origin = (self.login.public_url.clone()).or_else(|| self.facts.own_origin())?;
        Some(format!("{origin}{path}"))
    }

    /// The return address from a query or form value, or `/` when it is not safe.
    fn return_to(&self, rd: Option<&str>) -> String {
        let origin = self.facts.own_origin();
        rd.and_then(|rd| safe_return(rd, origin.as_deref(), &self.login.redirect_origins))
            .unwrap_or_else(|| "/".to_owned())
    }

    /// The session id and user of this browser, if its session is valid; `Err` when the store
    /// cannot say (the caller answers 503 and leaves the cookie alone).
    async fn current_user(&self) -> Result<Option<(String, String)>, Unavailable> {
        let Some(token) = self.facts.credentials.session.as_deref() else {
            return Ok(None);
        };
        let authn = self.app.authenticators();
        match authn.session(token, clock::now_unix()).await {
            (Authn::Authenticated(identity), Some(id)) => {
                Ok(Some((id.to_string(), identity.subject)))
            }
            (Authn::Unavailable, _) => Err(Unavailable),
            _ => Ok(None),
        }
    }

    /// Ends a session here and on every replica.
    async fn end_session(&self, id: &str) -> Result<(), Unavailable> {
        self.app
            .store()
            .revoke_session(id)
            .await
            .map_err(|_| Unavailable)?;
        self.app.revoked(Revocation::Session(id.to_owned())).await;
        Ok(())
    }

    async fn show_login(&self) -> Response {
        let query = query_map(self.query);
        let rd = self.return_to(query.get("rd").map(String::as_str));
        let step = StepUp::from_query(&query);
        let Ok(user) = self.current_user().await else {
            return respond::unavailable();
        };
        let switching = query.contains_key("switch") || step.asked();
        if user.is_some() && !switching {
            return respond::see_other(&rd, Vec::new());
        }
        if let Some(only) = self.login.sole_provider() {
            let provider = self
                .app
                .authenticators()
                .providers()
                .get(&only.name)
                .cloned();
            if let Some(provider) = provider {
                return self.send_to_provider(&provider, &rd, &step).await;
            }
        }
        let notice = user
            .as_ref()
            .map_or(Notice::None, |(_, name)| Notice::Switching(name));
        self.form(StatusCode::OK, &rd, &notice, &step)
    }

    fn form(&self, status: StatusCode, rd: &str, notice: &Notice<'_>, step: &StepUp) -> Response {
        let Some(csrf) = cookies::random_token() else {
            return respond::unavailable();
        };
        let buttons: Vec<page::Button> = (self.login.providers.iter())
            .map(|p| page::Button {
                href: federated::start_href(&p.name, rd, step),
                label: p.display_name.clone(),
            })
            .collect();
        let html = page::login(&csrf, rd, notice, &buttons, self.login.password);
        Page::new(status, html)
            .cookie(cookies::csrf(self.facts, &csrf))
            .into()
    }

    fn bad_form(&self) -> Response {
        let text = "This form has expired or was not sent by this site. Reload the sign-in page and try again.";
        Page::new(
            StatusCode::FORBIDDEN,
            page::message("Form expired", text, Some((LOGIN_PATH, "Back to sign in"))),
        )
        .into()
    }

    /// Double-submit cookie plus, when the browser sends one, a same-origin `Origin`.
    fn csrf_ok(&self, form: &HashMap<String, String>) -> bool {
        let cookie = warden_core::cookies::value(self.headers, cookies::CSRF);
        let sent = form.get("csrf").map(String::as_bytes);
        let tokens_match = match (cookie, sent) {
            (Some(c), Some(s)) if !c.is_empty() => {
                aws_lc_rs::constant_time::verify_slices_are_equal(c.as_bytes(), s).is_ok()
            }
            _ => false,
        };
        let origin_ok = self
            .facts
            .origin
            .as_deref()
            .is_none_or(|o| Some(o.to_ascii_lowercase()) == self.facts.own_origin());
        tokens_match && origin_ok
    }

    async fn submit_login(&self, form: &HashMap<String, String>) -> Response {
        if !self.csrf_ok(form) {
            return self.bad_form();
        }
        let rd = self.return_to(form.get("rd").map(String::as_str));
        let user = form.get("username").map_or("", String::as_str);
        let password = form.get("password").map_or("", String::as_str);
        let keys = [
            AttemptKey::Ip(self.facts.client),
            AttemptKey::User(user.to_owned()),
        ];
        let now_ms = clock::now_millis();
        let authn = self.app.authenticators();
        let asked = self.app.attempts().retry_after(&keys, now_ms);
        match authn.timed(Dependency::State, "retry_after", asked).await {
            Ok(Some(wait)) => {
                crate::metrics::attempt_block();
                return respond::throttled(wait.as_secs().max(1));
            }
            Ok(None) => {}
            Err(_) => return respond::unavailable(),
        }
        let check = self.app.store().check_password(user, password);
        let account = match authn
            .timed(Dependency::Store, "check_password", check)
            .await
        {
            Ok(Some(account)) => account,
            Ok(None) => {
                tracing::info!(user, client = %self.facts.client, "sign-in failed");
                let record = self.app.attempts().record_failure(&keys, now_ms);
                let recorded = authn.timed(Dependency::State, "record_failure", record);
                if recorded.await.is_err() {
                    return respond::unavailable();
                }
                return self.form(StatusCode::OK, &rd, &Notice::Failed, &StepUp::default());
            }
            Err(_) => return respond::unavailable(),
        };
        self.start_session(&account.name, &rd).await
    }

    /// A new session every time (no fixation); a session this browser had is ended first.
    async fn start_session(&self, user: &str, rd: &str) -> Response {
        let Ok(current) = self.current_user().await else {
            return respond::unavailable();
        };
        if let Some((old, _)) = current
            && self.end_session(&old).await.is_err()
        {
            return respond::unavailable();
        }
        let Ok(now) = i64::try_from(clock::now_unix()) else {
            return respond::unavailable();
        };
        match self
            .app
            .store()
            .create_session(user, now, self.limits())
            .await
        {
            Ok(session) => {
                let set = vec![
                    cookies::session(self.facts, &session.token, self.login.absolute),
                    cookies::marker(true),
                ];
                tracing::info!(user, session = session.record.id, client = %self.facts.client, "signed in");
                respond::see_other(rd, set)
            }
            Err(_) => respond::unavailable(),
        }
    }

    async fn show_logout(&self) -> Response {
        let Some(csrf) = cookies::random_token() else {
            return respond::unavailable();
        };
        let Ok(user) = self.current_user().await else {
            return respond::unavailable();
        };
        let user = user.map(|(_, name)| name);
        Page::new(StatusCode::OK, page::logout(&csrf, user.as_deref()))
            .cookie(cookies::csrf(self.facts, &csrf))
            .form_targets(self.provider_origins())
            .into()
    }

    async fn submit_logout(&self, form: &HashMap<String, String>) -> Response {
        if !self.csrf_ok(form) {
            return self.bad_form();
        }
        // A store that cannot answer leaves the cookie alone: clearing it would sign the
        // browser out of a session that may still be live.
        let Ok(current) = self.current_user().await else {
            return respond::unavailable();
        };
        // Asked before the session ends: the provider's logout needs its ID token.
        let at_provider = self.provider_logout_url().await;
        if let Some((id, user)) = current {
            if self.end_session(&id).await.is_err() {
                return respond::unavailable();
            }
            tracing::info!(user, session = id, "signed out");
        }
        let mut set: Vec<String> = cookies::clear_session(self.facts).into();
        set.push(cookies::marker(false));
        respond::see_other(at_provider.as_deref().unwrap_or(LOGIN_PATH), set)
    }
}

/// The store could not answer; the page says 503.
struct Unavailable;

/// A query string as a map (first value wins).
fn query_map(query: &str) -> HashMap<String, String> {
    let mut map = HashMap::new();
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        map.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
    map
}
