//! The one place a decision becomes an HTTP answer: status, headers and body.

use http::header::{
    CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, LOCATION, RETRY_AFTER, WWW_AUTHENTICATE,
};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};

use crate::challenge::{BearerError, challenges, quote};
use crate::config::Config;
use crate::cors;
use crate::credentials::SendingError;
use crate::decision::{Decision, Deny, Verdict};
use crate::facts::RequestFacts;
use crate::identity::{Identity, Rejection};
use crate::page;
use crate::rules::{Rule, Schemes};
use crate::sign_in::{redirect_to_login, sign_in_again, switch_link, wants_login};
use crate::step_up::StepUp;

/// Seconds a client should wait after a 503.
pub const RETRY_AFTER_UNAVAILABLE: u32 = 5;
/// The header carrying the real status in the nginx flavour.
pub const STATUS_HEADER: &str = "x-warden-status";
/// The header carrying the decision id.
pub const DECISION_HEADER: &str = "x-warden-decision";
/// The login page.
pub const LOGIN_PATH: &str = "/.warden/login";

/// Which front end reads the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    /// Full statuses and one challenge per header line.
    Generic,
    /// nginx `auth_request`: only 2xx/401/403 (and 503), one challenge line, real status in a header.
    Nginx,
}

/// What rendering needs besides the decision.
#[derive(Debug, Clone, Copy)]
pub struct RenderContext<'a> {
    /// The configuration in force (realm, header names, login).
    pub config: &'a Config,
    /// The request that was judged.
    pub facts: &'a RequestFacts,
    /// Which front end reads the answer.
    pub flavour: Flavour,
    /// The decision id, for the client and the logs.
    pub decision_id: &'a str,
}

/// A rendered answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Status code.
    pub status: StatusCode,
    /// Headers, including `Content-Type` and `Content-Length`.
    pub headers: HeaderMap,
    /// Body (empty for `HEAD`).
    pub body: String,
}

/// A denial before formatting: the contract row it falls in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial<'a> {
    /// Status.
    pub status: StatusCode,
    /// Stable machine-readable code.
    pub code: &'static str,
    /// Human explanation, safe for clients.
    pub detail: String,
    /// `WWW-Authenticate` values.
    pub challenges: Vec<String>,
    /// The signed-in caller, for the HTML page.
    pub identity: Option<&'a Identity>,
    /// A link for a browser to go on with, and its label ("Sign in as someone else").
    pub login_link: Option<(String, &'static str)>,
    /// Seconds to wait, for 429 and 503.
    pub retry_after: Option<u64>,
}

/// Renders a decision. No other code writes a status for a denial.
pub fn render(decision: &Decision, ctx: &RenderContext<'_>) -> Outcome {
    // Room for the largest answer (a denial with CORS and challenges) without regrowing.
    let mut headers = HeaderMap::with_capacity(16);
    insert(
        &mut headers,
        HeaderName::from_static(DECISION_HEADER),
        ctx.decision_id,
    );
    let rule = decision.rule.as_deref();
    match &decision.verdict {
        Verdict::Preflight => {
            cors::preflight(&mut headers, rule, ctx.facts);
            headers.insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
            Outcome {
                status: StatusCode::NO_CONTENT,
                headers,
                body: String::new(),
            }
        }
        Verdict::Allow(identity) => {
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            if ctx.flavour == Flavour::Nginx {
                headers.insert(
                    HeaderName::from_static(STATUS_HEADER),
                    HeaderValue::from_static("200"),
                );
            }
            identity_headers(&mut headers, ctx.config, identity.as_ref());
            headers.insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
            Outcome {
                status: StatusCode::OK,
                headers,
                body: String::new(),
            }
        }
        Verdict::Deny(why) => {
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            cors::on_denial(&mut headers, rule, ctx.facts);
            let denial = classify(why, rule, ctx);
            match redirect_to_login(why, rule, ctx) {
                Some(location) if ctx.flavour == Flavour::Nginx => {
                    nginx_redirect(&location, denial, headers, ctx)
                }
                Some(location) => redirect(location, headers, ctx),
                None => finish(denial, headers, ctx),
            }
        }
    }
}

/// Why an allowed request got no answer from the upstream (reverse-proxy mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamFailure {
    /// No connection, or the connection broke before a response head (502).
    Unavailable,
    /// No response head within the configured time (504).
    Timeout,
}

/// Renders an upstream failure: the request was allowed, the upstream did not answer.
pub fn render_upstream_failure(failure: UpstreamFailure, ctx: &RenderContext<'_>) -> Outcome {
    let mut headers = HeaderMap::new();
    insert(
        &mut headers,
        HeaderName::from_static(DECISION_HEADER),
        ctx.decision_id,
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    let (status, code, detail) = match failure {
        UpstreamFailure::Unavailable => (
            StatusCode::BAD_GATEWAY,
            "upstream_unavailable",
            "The service behind this gateway is not reachable. Try again shortly.",
        ),
        UpstreamFailure::Timeout => (
            StatusCode::GATEWAY_TIMEOUT,
            "upstream_timeout",
            "The service behind this gateway did not answer in time.",
        ),
    };
    let denial = Denial {
        status,
        code,
        detail: detail.to_owned(),
        challenges: Vec::new(),
        identity: None,
        login_link: None,
        retry_after: None,
    };
    finish(denial, headers, ctx)
}

fn classify<'a>(why: &'a Deny, rule: Option<&Rule>, ctx: &RenderContext<'_>) -> Denial<'a> {
    let realm = ctx.config.realm.as_str();
    // A browser script on a rule with sign-in is told about the cookie, not offered Basic.
    let session_login = rule.is_some_and(|r| r.schemes.session) && ctx.config.login.is_some();
    let cookie_login = ctx.facts.script && session_login;
    let schemes = offered(
        rule.map_or(Schemes::NONE, |r| r.schemes),
        ctx.facts,
        cookie_login,
    );
    let forbidden = if rule.is_some_and(|r| r.hide) {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::FORBIDDEN
    };
    // A hidden resource's denial reads as a plain 404: nothing says it exists.
    let hidden = if rule.is_some_and(|r| r.hide) {
        (
            Some("not_found"),
            Some("The requested resource was not found."),
        )
    } else {
        (None, None)
    };
    let deny = |status, code, detail: &str| Denial {
        status,
        code,
        detail: detail.to_owned(),
        challenges: Vec::new(),
        identity: None,
        login_link: None,
        retry_after: None,
    };
    let metadata = ctx
        .config
        .resource
        .as_ref()
        .map(|r| r.metadata_url.as_str());
    let challenge = |status, code, detail: &str, error: BearerError| {
        let mut offered = challenges(realm, metadata, schemes, &error);
        // A rule that takes only the sign-in cookie (an identity provider, no Basic) still
        // owes every 401 a challenge: the Cookie one names the way in.
        let only_cookie = offered.is_empty() && session_login;
        if (cookie_login || only_cookie) && status == StatusCode::UNAUTHORIZED {
            offered.push(cookie_challenge(realm));
        }
        Denial {
            challenges: offered,
            ..deny(status, code, detail)
        }
    };
    let signed_in = |identity: &'a Identity, denial: Denial<'a>| Denial {
        identity: Some(identity),
        login_link: switch_link(rule, ctx),
        ..denial
    };
    match why {
        Deny::BadPath(e) => deny(
            StatusCode::BAD_REQUEST,
            "bad_path",
            &format!("The request path is refused: {e}."),
        ),
        Deny::BadSending(SendingError::TooLarge) => deny(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "header_too_large",
            "A credential header is larger than 8 KiB.",
        ),
        Deny::BadSending(e) => challenge(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            &format!("The credentials are refused: {e}."),
            BearerError::InvalidRequest,
        ),
        Deny::Network => deny(
            StatusCode::FORBIDDEN,
            "network_denied",
            "Requests from your network are not allowed.",
        ),
        Deny::NoRule => deny(
            StatusCode::FORBIDDEN,
            "no_rule",
            "No access rule allows this request.",
        ),
        Deny::Closed => deny(
            forbidden,
            hidden.0.unwrap_or("closed"),
            hidden.1.unwrap_or("This resource is closed."),
        ),
        Deny::Unauthenticated if ctx.facts.just_signed_in && wants_login(rule, ctx) => Denial {
            login_link: sign_in_again(ctx, ""),
            ..challenge(
                StatusCode::UNAUTHORIZED,
                "session_not_returned",
                "You signed in, but this browser did not send the session cookie back. Allow cookies for this site and try again.",
                BearerError::None,
            )
        },
        Deny::Unauthenticated => challenge(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Authentication is required.",
            BearerError::None,
        ),
        Deny::Rejected(Rejection::SessionEnded) => Denial {
            login_link: wants_login(rule, ctx)
                .then(|| sign_in_again(ctx, ""))
                .flatten(),
            ..challenge(
                StatusCode::UNAUTHORIZED,
                "session_ended",
                "Your session has ended. Sign in again.",
                BearerError::InvalidToken("the session has ended"),
            )
        },
        Deny::Rejected(Rejection::BadPassword) => challenge(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "The user name or password is wrong.",
            BearerError::None,
        ),
        Deny::Rejected(Rejection::InvalidToken(problem)) => challenge(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            &capitalized(problem.description()),
            BearerError::InvalidToken(problem.description()),
        ),
        Deny::MissingScope { identity, required } => signed_in(
            identity,
            challenge(
                StatusCode::FORBIDDEN,
                "insufficient_scope",
                &format!("This request needs the scopes: {}.", required.join(" ")),
                BearerError::InsufficientScope(required.join(" ")),
            ),
        ),
        Deny::MissingRole { identity, required } => {
            let detail = if rule.is_some_and(|r| r.show_required) {
                format!("This needs one of these roles: {}.", required.join(", "))
            } else {
                "You do not have permission for this resource.".to_owned()
            };
            let (code, detail) = (hidden.0.unwrap_or("forbidden"), hidden.1.unwrap_or(&detail));
            signed_in(identity, deny(forbidden, code, detail))
        }
        Deny::StepUp {
            identity,
            acr,
            max_age,
            shortfall,
        } => {
            let step_up = StepUp {
                acr,
                max_age: *max_age,
                shortfall: *shortfall,
            };
            // A navigation is redirected, except right after a sign-in: then this page.
            let page = wants_login(rule, ctx);
            let again = page.then(|| sign_in_again(ctx, &step_up.login_query()));
            Denial {
                identity: Some(identity),
                login_link: again.flatten(),
                ..challenge(
                    StatusCode::UNAUTHORIZED,
                    "insufficient_user_authentication",
                    &step_up.detail(page && ctx.facts.just_signed_in),
                    step_up.error(),
                )
            }
        }
        // The condition itself is not shown: it would tell a caller how to get around it.
        Deny::Condition { identity, .. } => {
            let code = hidden.0.unwrap_or("forbidden");
            let denial = deny(
                forbidden,
                code,
                hidden
                    .1
                    .unwrap_or("You do not have permission for this resource."),
            );
            match identity {
                Some(identity) => signed_in(identity, denial),
                None => denial,
            }
        }
        Deny::Unavailable => Denial {
            retry_after: Some(u64::from(RETRY_AFTER_UNAVAILABLE)),
            ..deny(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Credentials cannot be checked right now. Try again shortly.",
            )
        },
        Deny::Throttled { retry_after } => Denial {
            retry_after: Some(*retry_after),
            ..deny(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_attempts",
                "Too many failed attempts. Wait before trying again.",
            )
        },
    }
}

/// The schemes a 401 offers. A browser script is not offered Basic when Bearer or the
/// sign-in cookie is there: browsers answer a Basic challenge to `fetch` with their own
/// password dialog, before the page's code ever sees the 401.
fn offered(schemes: Schemes, facts: &RequestFacts, cookie_login: bool) -> Schemes {
    if facts.script && (schemes.bearer() || cookie_login) {
        Schemes {
            basic: false,
            ..schemes
        }
    } else {
        schemes
    }
}

/// The `Cookie` scheme of the (expired) HTTP Cookie-based Authentication draft
/// (draft-broyer-http-cookie-auth): names the sign-in form and the cookie. Browsers ignore
/// it (no password dialog); `@warden/fetch` reads `form-action` to find the login page.
fn cookie_challenge(realm: &str) -> String {
    format!(
        "Cookie realm={}, form-action=\"{LOGIN_PATH}\", cookie-name=\"{}\"",
        quote(realm),
        crate::cookies::SESSION
    )
}

fn redirect_status(ctx: &RenderContext<'_>) -> StatusCode {
    if ctx.facts.method == Method::GET || ctx.facts.method == Method::HEAD {
        StatusCode::FOUND
    } else {
        StatusCode::SEE_OTHER
    }
}

/// nginx turns a 302 from `auth_request` into 500: the flavour answers the 401 and names the
/// redirect in `X-Warden-Status` and `Location`, for an `error_page 401` recipe to send.
fn nginx_redirect(
    location: &str,
    denial: Denial<'_>,
    headers: HeaderMap,
    ctx: &RenderContext<'_>,
) -> Outcome {
    let mut outcome = finish(denial, headers, ctx);
    insert(&mut outcome.headers, LOCATION, location);
    insert(
        &mut outcome.headers,
        HeaderName::from_static(STATUS_HEADER),
        redirect_status(ctx).as_str(),
    );
    outcome
}

fn redirect(location: String, mut headers: HeaderMap, ctx: &RenderContext<'_>) -> Outcome {
    let status = redirect_status(ctx);
    let body = page::redirect(&location);
    insert(&mut headers, LOCATION, &location);
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
    let body = if ctx.facts.head { String::new() } else { body };
    Outcome {
        status,
        headers,
        body,
    }
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or_else(String::new, |f| {
        f.to_uppercase().chain(c).collect::<String>() + "."
    })
}

fn finish(mut denial: Denial<'_>, mut headers: HeaderMap, ctx: &RenderContext<'_>) -> Outcome {
    if ctx.flavour == Flavour::Nginx {
        insert(
            &mut headers,
            HeaderName::from_static(STATUS_HEADER),
            denial.status.as_str(),
        );
        nginx_adapt(&mut denial, ctx.config);
        if !denial.challenges.is_empty() {
            insert(
                &mut headers,
                WWW_AUTHENTICATE,
                &denial.challenges.join(", "),
            );
        }
    } else {
        for c in &denial.challenges {
            if let Ok(v) = HeaderValue::from_str(c) {
                headers.append(WWW_AUTHENTICATE, v);
            }
        }
    }
    if let Some(seconds) = denial.retry_after {
        headers.insert(RETRY_AFTER, HeaderValue::from(seconds));
    }
    // RFC 9457: the body's `status` is the status actually sent; the nginx flavour's real one
    // travels in `X-Warden-Status`.
    let (content_type, body) = page::body(&denial, ctx);
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
    let body = if ctx.facts.head { String::new() } else { body };
    Outcome {
        status: denial.status,
        headers,
        body,
    }
}

/// nginx `auth_request` turns anything but 2xx/401/403 into 500: 400 and 431 become 401,
/// 404 and 429 become 403, 503 stays (nginx shows 500, still closed). A 401 keeps a challenge.
fn nginx_adapt(denial: &mut Denial<'_>, config: &Config) {
    denial.status = match denial.status.as_u16() {
        400 | 431 => StatusCode::UNAUTHORIZED,
        404 | 429 => StatusCode::FORBIDDEN,
        _ => denial.status,
    };
    if denial.status == StatusCode::UNAUTHORIZED && denial.challenges.is_empty() {
        let metadata = config.resource.as_ref().map(|r| r.metadata_url.as_str());
        let challenge =
            crate::challenge::bearer(&config.realm, metadata, &BearerError::InvalidRequest);
        denial.challenges.push(challenge);
    }
}

fn identity_headers(headers: &mut HeaderMap, config: &Config, identity: Option<&Identity>) {
    let names = &config.identity_headers;
    // Always emitted, empty when anonymous, so a forged client copy never survives `copy_headers`.
    let Some(i) = identity else {
        for name in [&names.subject, &names.roles, &names.scopes, &names.method] {
            headers.insert(name.clone(), HeaderValue::from_static(""));
        }
        return;
    };
    insert(headers, names.subject.clone(), &header_safe(&i.subject));
    insert(
        headers,
        names.roles.clone(),
        &header_safe(&i.roles.join(",")),
    );
    insert(
        headers,
        names.scopes.clone(),
        &header_safe(&i.scopes.join(" ")),
    );
    headers.insert(
        names.method.clone(),
        HeaderValue::from_static(i.method.as_str()),
    );
}

/// Percent-encodes `%`, controls and non-ASCII, so a subject like `josé` reaches the upstream
/// intact instead of breaking the header.
fn header_safe(value: &str) -> std::borrow::Cow<'_, str> {
    let safe = |b: u8| (0x20..0x7f).contains(&b) && b != b'%';
    if value.bytes().all(safe) {
        return value.into();
    }
    let mut out = String::with_capacity(value.len() * 3);
    for b in value.bytes() {
        if safe(b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out.into()
}

/// Inserts a header; a value that cannot be a header (control characters) is sent empty.
pub(crate) fn insert(headers: &mut HeaderMap, name: HeaderName, value: &str) {
    let value = HeaderValue::from_str(value).unwrap_or_else(|_| HeaderValue::from_static(""));
    headers.insert(name, value);
}
