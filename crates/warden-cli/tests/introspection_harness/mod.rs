//! The introspection harness: the real `oidc-provider` minting opaque client-credentials
//! tokens, a resource-server client for warden's introspection calls, warden configured to
//! ask it, and the checks every answer must pass (status, headers, problem+json).

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::op::Op;
use crate::common::*;

/// The client that gets tokens (client credentials), so the subject is its id.
pub const APP: (&str, &str) = ("app", "app-secret");
/// The resource-server client warden introspects with: no grants of its own.
pub const RS: (&str, &str) = ("warden-rs", "rs-secret");
/// The API whose access tokens are opaque; warden accepts only this audience.
pub const API: &str = "https://api.example/";
/// Another opaque-token API: its tokens are active but not for warden.
pub const OTHER: &str = "https://other.example/";
/// The introspection endpoint's path at the provider.
pub const ENDPOINT: &str = "/token/introspection";

pub const SCOPE_WRITE: &str =
    r#"Bearer realm="example", error="insufficient_scope", scope="api:write""#;

/// The provider with the two clients and two opaque-token resources; access tokens live
/// `ttl` seconds.
pub fn provider(ttl: u64) -> Op {
    let client = |(id, secret): (&str, &str), grants: &[&str]| {
        json!({ "client_id": id, "client_secret": secret, "grant_types": grants,
                "redirect_uris": [], "response_types": [] })
    };
    Op::start(json!({
        "clients": [client(APP, &["client_credentials"]), client(RS, &[])],
        "resources": {
            API: { "scope": "api:read api:write", "format": "opaque" },
            OTHER: { "scope": "api:read", "format": "opaque" },
        },
        "ttl": { "ClientCredentials": ttl },
    }))
}

/// What a test changes in warden's `[authn.introspection]`.
pub struct Settings {
    pub secret: &'static str,
    pub cache_seconds: u64,
    pub timeout_ms: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            secret: RS.1,
            cache_seconds: 60,
            timeout_ms: 2000,
        }
    }
}

/// warden with only `[authn.introspection]` (no JWT keys): `/api/read/**` needs `api:read`,
/// `/api/write/**` needs `api:write`, `/private/**` any token.
pub fn config(op: &Op, s: &Settings) -> String {
    format!(
        r#"version = 1
[server]
listen = "127.0.0.1:0"
realm = "example"
[authn.introspection]
endpoint = "{endpoint}"
dangerous_allow_http = true
client_id = "{client}"
client_secret_file = "rs-secret.txt"
audience = ["{API}"]
issuer = "{issuer}"
cache_seconds = {cache}
timeout_ms = {timeout}
[network]
trusted_proxies = ["127.0.0.1/32"]
[[rule]]
name = "read"
path = "/api/read/**"
require = {{ scopes = ["api:read"] }}
[[rule]]
name = "write"
path = "/api/write/**"
require = {{ scopes = ["api:write"] }}
[[rule]]
name = "private"
path = "/private/**"
require = "authenticated"
"#,
        endpoint = op.url(ENDPOINT),
        client = RS.0,
        issuer = op.issuer(),
        cache = s.cache_seconds,
        timeout = s.timeout_ms,
    )
}

/// The config written with its secret file, not started.
pub fn env(op: &Op, s: &Settings) -> Env {
    let env = Env::new(&config(op, s));
    std::fs::write(
        env.dir.path.join("rs-secret.txt"),
        format!("{}\n", s.secret),
    )
    .unwrap();
    env
}

/// warden asking `op`.
pub fn warden(op: &Op, s: &Settings) -> Warden {
    env(op, s).serve()
}

/// An opaque access token for `resource` with `scope`, issued to [`APP`].
pub fn token(op: &Op, scope: &str, resource: &str) -> String {
    let t = op.client_credentials(APP, scope, resource);
    assert!(!t.contains('.'), "not an opaque token: {t}");
    t
}

/// `GET path` with `Authorization: Bearer token`.
pub fn get(warden: &Warden, path: &str, token: &str) -> Response {
    warden.get(path, &[("Authorization", &bearer(token))])
}

/// Introspection calls the provider answered (or failed on purpose) so far.
pub fn calls(op: &Op) -> (u64, u64) {
    let stats = op.stats();
    let n = |name: &str| stats[name].as_u64().unwrap_or(0);
    (n("introspection"), n(&format!("failed {ENDPOINT}")))
}

const IDENTITY: [&str; 4] = [
    "x-auth-subject",
    "x-auth-roles",
    "x-auth-scopes",
    "x-auth-method",
];

/// 200 with the identity of a client-credentials token of [`APP`].
pub fn assert_allowed(r: &Response, scopes: &str, what: &str) {
    assert_eq!(r.status, 200, "{what}: {r:#?}");
    let want = [APP.0, "", scopes, "introspection"];
    for (name, want) in IDENTITY.into_iter().zip(want) {
        assert_eq!(r.all(name), [want], "{what}: {name}");
    }
    assert!(r.challenges().is_empty(), "{what}: {r:#?}");
    assert!(r.body.is_empty(), "{what}: {r:#?}");
}

/// A problem+json denial: status, `code`, no identity, `no-store`, the decision id.
fn assert_problem(r: &Response, status: u16, code: &str, what: &str) -> Value {
    assert_eq!(r.status, status, "{what}: {r:#?}");
    assert_eq!(r.header("content-type"), Some(PROBLEM), "{what}");
    assert_eq!(r.all("cache-control"), ["no-store"], "{what}");
    for name in IDENTITY {
        assert!(r.header(name).is_none(), "{what}: {name} on a denial");
    }
    let p = r.json();
    assert_eq!(p["status"], status, "{what}");
    assert_eq!(p["code"], code, "{what}");
    assert!(p["type"].is_string() && p["title"].is_string() && p["detail"].is_string());
    let id = r.decision();
    assert!(!id.is_empty(), "{what}: no decision id");
    assert_eq!(p["instance"], format!("urn:warden:decision:{id}"), "{what}");
    assert!(leaks(&r.body).is_empty(), "{what}: {}", r.body);
    p
}

/// 401 `invalid_token` with exactly the generic Bearer challenge, no `Retry-After`.
pub fn assert_invalid(r: &Response, what: &str) {
    assert_problem(r, 401, "invalid_token", what);
    assert_eq!(r.challenges(), [BEARER_INVALID], "{what}");
    assert!(r.header("retry-after").is_none(), "{what}");
}

/// 403 `insufficient_scope` naming `api:write`.
pub fn assert_needs_write(r: &Response, what: &str) {
    assert_problem(r, 403, "insufficient_scope", what);
    assert_eq!(r.challenges(), [SCOPE_WRITE], "{what}");
}

/// 503 with `Retry-After` and no challenge: the token was not judged.
pub fn assert_unavailable(r: &Response, what: &str) {
    assert_problem(r, 503, "unavailable", what);
    assert!(r.challenges().is_empty(), "{what}: {r:#?}");
    let retry = r.header("retry-after").unwrap_or_default();
    assert!(retry.parse::<u32>().is_ok_and(|s| s >= 1), "{what}: {r:#?}");
}

/// 429 with `Retry-After` within the minute and no challenge.
pub fn assert_throttled(r: &Response, what: &str) {
    assert_problem(r, 429, "too_many_attempts", what);
    assert!(r.challenges().is_empty(), "{what}: {r:#?}");
    let retry = r.header("retry-after").unwrap_or_default();
    let seconds = retry.parse::<u64>().unwrap_or(0);
    assert!((1..=60).contains(&seconds), "{what}: Retry-After {retry:?}");
}

/// Sleeps until the clock is past `exp` (Unix seconds), the provider's and warden's alike.
pub fn wait_past(exp: u64) {
    let now = tokens::now();
    if now <= exp {
        std::thread::sleep(Duration::from_millis((exp + 1 - now) * 1000 + 200));
    }
}
