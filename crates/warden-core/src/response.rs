//! The one place a decision becomes an HTTP answer: status, headers and body.

use http::header::{CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};

use crate::challenge::{BearerError, challenges};
use crate::config::IdentityHeaders;
use crate::credentials::SendingError;
use crate::decision::{Decision, Deny, Verdict};
use crate::identity::{Identity, Rejection};
use crate::negotiate::BodyKind;
use crate::page;
use crate::rules::Schemes;

/// Seconds a client should wait after a 503.
pub const RETRY_AFTER_UNAVAILABLE: u32 = 5;
/// The header carrying the real status in the nginx flavour, and the decision id everywhere.
pub const STATUS_HEADER: &str = "x-warden-status";
/// The header carrying the decision id.
pub const DECISION_HEADER: &str = "x-warden-decision";

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
    /// The realm.
    pub realm: &'a str,
    /// Identity header names.
    pub identity_headers: &'a IdentityHeaders,
    /// Which front end reads the answer.
    pub flavour: Flavour,
    /// Body format.
    pub body_kind: BodyKind,
    /// `HEAD`: same headers, no body.
    pub head: bool,
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
}

/// Renders a decision. No other code writes a status for a denial.
pub fn render(decision: &Decision, ctx: &RenderContext<'_>) -> Outcome {
    let mut headers = HeaderMap::new();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    insert(
        &mut headers,
        HeaderName::from_static(DECISION_HEADER),
        ctx.decision_id,
    );
    let denial = match &decision.verdict {
        Verdict::Allow(identity) => {
            identity_headers(&mut headers, ctx.identity_headers, identity.as_ref());
            headers.insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
            return Outcome {
                status: StatusCode::OK,
                headers,
                body: String::new(),
            };
        }
        Verdict::Deny(why) => classify(why, decision, ctx.realm),
    };
    finish(denial, headers, ctx)
}

fn classify<'a>(why: &'a Deny, decision: &Decision, realm: &str) -> Denial<'a> {
    let schemes = decision.rule.as_ref().map_or(
        Schemes {
            jwt: false,
            basic: false,
            api_key: false,
        },
        |r| r.schemes,
    );
    let hidden = decision.rule.as_ref().is_some_and(|r| r.hide);
    let forbidden = if hidden {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::FORBIDDEN
    };
    let deny = |status, code, detail: &str| Denial {
        status,
        code,
        detail: detail.to_owned(),
        challenges: Vec::new(),
        identity: None,
    };
    let challenge = |status, code, detail: &str, error: BearerError| Denial {
        challenges: challenges(realm, schemes, &error),
        ..deny(status, code, detail)
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
        Deny::Closed => deny(forbidden, "closed", "This resource is closed."),
        Deny::Unauthenticated => challenge(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Authentication is required.",
            BearerError::None,
        ),
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
        Deny::MissingScope { identity, required } => Denial {
            identity: Some(identity),
            ..challenge(
                StatusCode::FORBIDDEN,
                "insufficient_scope",
                &format!("This request needs the scopes: {}.", required.join(" ")),
                BearerError::InsufficientScope(required.join(" ")),
            )
        },
        Deny::MissingRole { identity, .. } => Denial {
            identity: Some(identity),
            ..deny(
                forbidden,
                "forbidden",
                "You do not have permission for this resource.",
            )
        },
        Deny::Unavailable => deny(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Credentials cannot be checked right now. Try again shortly.",
        ),
    }
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or_else(String::new, |f| {
        f.to_uppercase().chain(c).collect::<String>() + "."
    })
}

fn finish(mut denial: Denial<'_>, mut headers: HeaderMap, ctx: &RenderContext<'_>) -> Outcome {
    let real = denial.status;
    if ctx.flavour == Flavour::Nginx {
        nginx_adapt(&mut denial, ctx.realm);
        insert(
            &mut headers,
            HeaderName::from_static(STATUS_HEADER),
            real.as_str(),
        );
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
    if real == StatusCode::SERVICE_UNAVAILABLE {
        headers.insert(RETRY_AFTER, HeaderValue::from(RETRY_AFTER_UNAVAILABLE));
    }
    // RFC 9457: the body's `status` is the status actually sent; the nginx flavour's real one
    // travels in `X-Warden-Status`.
    let (content_type, body) = page::body(&denial, denial.status, ctx);
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
    let body = if ctx.head { String::new() } else { body };
    Outcome {
        status: denial.status,
        headers,
        body,
    }
}

/// nginx `auth_request` turns anything but 2xx/401/403 into 500: 400 and 431 become 401,
/// 404 and 429 become 403, 503 stays (nginx shows 500, still closed). A 401 keeps a challenge.
fn nginx_adapt(denial: &mut Denial<'_>, realm: &str) {
    denial.status = match denial.status.as_u16() {
        400 | 431 => StatusCode::UNAUTHORIZED,
        404 | 429 => StatusCode::FORBIDDEN,
        _ => denial.status,
    };
    if denial.status == StatusCode::UNAUTHORIZED && denial.challenges.is_empty() {
        denial.challenges.push(format!(
            "Bearer realm={}, error=\"invalid_request\"",
            crate::challenge::quote(realm)
        ));
    }
}

fn identity_headers(headers: &mut HeaderMap, names: &IdentityHeaders, identity: Option<&Identity>) {
    // Always emitted, empty when anonymous, so a forged client copy never survives `copy_headers`.
    let (subject, roles, scopes, method) = identity.map_or_else(Default::default, |i| {
        (
            i.subject.clone(),
            i.roles.join(","),
            i.scopes.join(" "),
            i.method.as_str().to_owned(),
        )
    });
    insert(headers, names.subject.clone(), &header_safe(&subject));
    insert(headers, names.roles.clone(), &header_safe(&roles));
    insert(headers, names.scopes.clone(), &header_safe(&scopes));
    insert(headers, names.method.clone(), &method);
}

/// Percent-encodes `%`, controls and non-ASCII, so a subject like `josé` reaches the upstream
/// intact instead of breaking the header.
fn header_safe(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if (0x20..0x7f).contains(&b) && b != b'%' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Inserts a header; a value that cannot be a header (control characters) is sent empty.
fn insert(headers: &mut HeaderMap, name: HeaderName, value: &str) {
    let value = HeaderValue::from_str(value).unwrap_or_else(|_| HeaderValue::from_static(""));
    headers.insert(name, value);
}
