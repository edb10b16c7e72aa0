//! CORS headers: preflights answered for allowed origins, and denials a browser script can read.

use http::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE, VARY,
};
use http::{HeaderMap, HeaderValue};

use crate::facts::RequestFacts;
use crate::response::insert;
use crate::rules::Rule;

/// Headers every preflight allows besides the ones it asks for. `Authorization` is listed by
/// name: the `*` wildcard never covers it.
const BASE_HEADERS: &str = "authorization, content-type, x-api-key";

/// The allowed origin of this request, if the rule's CORS policy admits it.
fn allowed<'a>(rule: Option<&Rule>, facts: &'a RequestFacts) -> Option<(&'a str, bool)> {
    let cors = rule?.cors.as_ref()?;
    let origin = facts.origin.as_deref()?;
    cors.allows(origin).then_some((origin, cors.credentials))
}

/// A preflight: 204 with the exact origin, the asked method and headers, for allowed origins;
/// a bare 204 (which the browser treats as refusal) for others.
pub(crate) fn preflight(headers: &mut HeaderMap, rule: Option<&Rule>, facts: &RequestFacts) {
    headers.insert(VARY, HeaderValue::from_static("Origin"));
    let Some((origin, credentials)) = allowed(rule, facts) else {
        return;
    };
    let Some(ask) = &facts.preflight else { return };
    insert(headers, ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    if ask.method.bytes().all(|b| b.is_ascii_alphabetic()) {
        insert(headers, ACCESS_CONTROL_ALLOW_METHODS, &ask.method);
    }
    let mut allow = BASE_HEADERS.to_owned();
    for name in ask.headers.iter().flat_map(|h| h.split(',')).map(str::trim) {
        let token =
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if token && !allow.split(", ").any(|a| a.eq_ignore_ascii_case(name)) {
            allow.push_str(", ");
            allow.push_str(&name.to_ascii_lowercase());
        }
    }
    insert(headers, ACCESS_CONTROL_ALLOW_HEADERS, &allow);
    if credentials {
        headers.insert(
            ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
    }
    let max_age = rule.and_then(|r| r.cors.as_ref()).map_or(0, |c| c.max_age);
    headers.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from(max_age));
}

/// A denial to an allowed cross-origin request: readable by the script, challenge included.
pub(crate) fn on_denial(headers: &mut HeaderMap, rule: Option<&Rule>, facts: &RequestFacts) {
    if rule.is_some_and(|r| r.cors.is_some()) {
        headers.insert(VARY, HeaderValue::from_static("Origin"));
    }
    let Some((origin, credentials)) = allowed(rule, facts) else {
        return;
    };
    insert(headers, ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    headers.insert(
        ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("WWW-Authenticate, Retry-After, X-Warden-Decision"),
    );
    if credentials {
        headers.insert(
            ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
    }
}

/// Reverse-proxy mode: the CORS headers an allowed cross-origin answer needs, added to the
/// upstream's response unless the upstream set its own.
pub fn on_allowed(headers: &mut HeaderMap, rule: Option<&Rule>, facts: &RequestFacts) {
    if headers.contains_key(ACCESS_CONTROL_ALLOW_ORIGIN) {
        return;
    }
    let Some((origin, credentials)) = allowed(rule, facts) else {
        return;
    };
    headers.append(VARY, HeaderValue::from_static("Origin"));
    insert(headers, ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    if credentials {
        headers.insert(
            ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
    }
}
