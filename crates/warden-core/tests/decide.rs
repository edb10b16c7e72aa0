#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The status contract, one row per situation, through the engine and the renderer in-process
//! (the same rows over real sockets live in warden-cli's tests).

use std::path::Path;

use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use warden_core::facts::{self, ForwardSource, RequestParts};
use warden_core::{
    AuthMethod, Authn, Config, Engine, Flavour, Identity, Rejection, RenderContext, Step,
    TokenProblem, render,
};

const CONFIG: &str = r#"
version = 1
[server]
listen = "127.0.0.1:4180"
realm = "example"
[authn.jwt]
jwks_file = "keys.json"
issuer = "https://idp.example"
audience = "api"
[authn.basic]
[authn.api_key]
[network]
deny = ["203.0.113.0/24"]
trusted_proxies = ["127.0.0.1/32"]
[[rule]]
name = "health"
path = "/health"
allow = "anyone"
[[rule]]
name = "private"
path = "/private/**"
require = "authenticated"
[[rule]]
name = "admin"
path = "/admin/**"
require = { roles = ["admin"] }
[[rule]]
name = "secret"
path = "/secret/**"
require = { roles = ["admin"] }
hide = true
[[rule]]
name = "closed"
path = "/closed/**"
allow = "nobody"
[[rule]]
name = "orders-write"
path = "/api/orders/**"
methods = ["POST"]
require = { scopes = ["orders:write", "orders:read"] }
[[rule]]
name = "basic-only"
path = "/legacy/**"
require = "authenticated"
authn = ["basic"]
[[rule]]
name = "payments"
path = "/payments/**"
require = { acr = ["mfa", "phr"] }
[[rule]]
name = "settings"
path = "/settings/**"
require = { roles = ["admin"], max_age = 300 }
[[rule]]
name = "wire"
path = "/wire/**"
methods = ["POST"]
require = { scopes = ["wire"], acr = ["mfa"], max_age = 60 }
"#;

const BEARER: &str = r#"Bearer realm="example""#;
const BASIC: &str = r#"Basic realm="example", charset="UTF-8""#;
const INVALID: &str = r#"Bearer realm="example", error="invalid_token", error_description="the access token is invalid""#;
const EXPIRED: &str = r#"Bearer realm="example", error="invalid_token", error_description="the access token expired""#;
const BAD_REQUEST: &str = r#"Bearer realm="example", error="invalid_request""#;
const SCOPE: &str =
    r#"Bearer realm="example", error="insufficient_scope", scope="orders:write orders:read""#;
const STEP_UP_ACR: &str = r#"Bearer realm="example", error="insufficient_user_authentication", error_description="a stronger authentication is required", acr_values="mfa phr""#;
const STEP_UP_AGE: &str = r#"Bearer realm="example", error="insufficient_user_authentication", error_description="a more recent authentication is required", max_age="300""#;
const STEP_UP_BOTH_ACR: &str = r#"Bearer realm="example", error="insufficient_user_authentication", error_description="a stronger authentication is required", acr_values="mfa", max_age="60""#;
const STEP_UP_BOTH_AGE: &str = r#"Bearer realm="example", error="insufficient_user_authentication", error_description="a more recent authentication is required", acr_values="mfa", max_age="60""#;
/// The clock of every row.
const NOW: u64 = 1_700_000_000;

/// What the authenticator would say about the credential, if asked.
#[derive(Clone, Copy)]
enum Judge {
    NotAsked,
    User(&'static [&'static str], &'static [&'static str]),
    /// Roles, scopes, `acr`, and how many seconds ago the user authenticated.
    SignedIn(
        &'static [&'static str],
        &'static [&'static str],
        Option<&'static str>,
        Option<u64>,
    ),
    Reject(Rejection),
    Down,
}

struct Row {
    name: &'static str,
    method: &'static str,
    path: &'static str,
    headers: &'static [(&'static str, &'static str)],
    peer: &'static str,
    judge: Judge,
    status: u16,
    challenges: &'static [&'static str],
}

const fn row(
    name: &'static str,
    path: &'static str,
    headers: &'static [(&'static str, &'static str)],
    judge: Judge,
    status: u16,
    challenges: &'static [&'static str],
) -> Row {
    Row {
        name,
        method: "GET",
        path,
        headers,
        peer: "192.0.2.1",
        judge,
        status,
        challenges,
    }
}

const TOKEN: &[(&str, &str)] = &[("authorization", "Bearer eyJ.eyJ.sig")];
const ADMIN: Judge = Judge::User(&["admin"], &[]);
const PLAIN_USER: Judge = Judge::User(&["dev"], &["orders:read"]);

fn rows() -> Vec<Row> {
    vec![
        row("anyone", "/health", &[], Judge::NotAsked, 200, &[]),
        row(
            "no credentials",
            "/private/x",
            &[],
            Judge::NotAsked,
            401,
            &[BEARER, BASIC],
        ),
        row(
            "rule base path",
            "/private",
            &[],
            Judge::NotAsked,
            401,
            &[BEARER, BASIC],
        ),
        row(
            "unsupported scheme",
            "/private/x",
            &[("authorization", "Negotiate YIIB")],
            Judge::NotAsked,
            401,
            &[BEARER, BASIC],
        ),
        row(
            "malformed bearer",
            "/private/x",
            &[("authorization", "Bearer a b")],
            Judge::NotAsked,
            400,
            &[BAD_REQUEST],
        ),
        row(
            "empty bearer",
            "/private/x",
            &[("authorization", "Bearer")],
            Judge::NotAsked,
            400,
            &[BAD_REQUEST],
        ),
        row(
            "two ways",
            "/private/x",
            &[("authorization", "Bearer a"), ("x-api-key", "wdn_x")],
            Judge::NotAsked,
            400,
            &[BAD_REQUEST],
        ),
        row(
            "two authorization lines",
            "/private/x",
            &[("authorization", "Bearer a"), ("authorization", "Bearer b")],
            Judge::NotAsked,
            400,
            &[BAD_REQUEST],
        ),
        row(
            "bad basic base64",
            "/private/x",
            &[("authorization", "Basic ####")],
            Judge::Reject(Rejection::BadPassword),
            401,
            &[BEARER, BASIC],
        ),
        row(
            "wrong password",
            "/private/x",
            &[("authorization", "Basic YTpi")],
            Judge::Reject(Rejection::BadPassword),
            401,
            &[BEARER, BASIC],
        ),
        row(
            "invalid token",
            "/private/x",
            TOKEN,
            Judge::Reject(Rejection::InvalidToken(TokenProblem::BadSignature)),
            401,
            &[INVALID, BASIC],
        ),
        row(
            "expired token",
            "/private/x",
            TOKEN,
            Judge::Reject(Rejection::InvalidToken(TokenProblem::Expired)),
            401,
            &[EXPIRED, BASIC],
        ),
        row(
            "unknown api key",
            "/private/x",
            &[("x-api-key", "wdn_nope")],
            Judge::Reject(Rejection::InvalidToken(TokenProblem::UnknownApiKey)),
            401,
            &[INVALID, BASIC],
        ),
        row("authenticated", "/private/x", TOKEN, PLAIN_USER, 200, &[]),
        row("role ok", "/admin/x", TOKEN, ADMIN, 200, &[]),
        row("role missing", "/admin/x", TOKEN, PLAIN_USER, 403, &[]),
        row(
            "role missing hidden",
            "/secret/x",
            TOKEN,
            PLAIN_USER,
            404,
            &[],
        ),
        row("closed", "/closed/x", &[], Judge::NotAsked, 403, &[]),
        Row {
            method: "POST",
            ..row(
                "scope missing",
                "/api/orders/1",
                TOKEN,
                PLAIN_USER,
                403,
                &[SCOPE],
            )
        },
        Row {
            method: "GET",
            ..row(
                "method not covered: default deny",
                "/api/orders/1",
                TOKEN,
                Judge::NotAsked,
                403,
                &[],
            )
        },
        row("no rule", "/elsewhere", &[], Judge::NotAsked, 403, &[]),
        row(
            "dependency down",
            "/private/x",
            TOKEN,
            Judge::Down,
            503,
            &[],
        ),
        row(
            "bypass ..",
            "/private/../admin/x",
            TOKEN,
            PLAIN_USER,
            403,
            &[],
        ),
        row("bypass //", "//admin/x", TOKEN, PLAIN_USER, 403, &[]),
        row("bypass %61", "/%61dmin/x", TOKEN, PLAIN_USER, 403, &[]),
        row(
            "encoded slash",
            "/admin%2Fx",
            &[],
            Judge::NotAsked,
            400,
            &[],
        ),
        row(
            "basic-only rule offers basic only",
            "/legacy/x",
            &[],
            Judge::NotAsked,
            401,
            &[BASIC],
        ),
        row(
            "bearer on basic-only rule",
            "/legacy/x",
            TOKEN,
            Judge::NotAsked,
            401,
            &[BASIC],
        ),
        Row {
            peer: "203.0.113.9",
            ..row(
                "network denied",
                "/private/x",
                TOKEN,
                Judge::NotAsked,
                403,
                &[],
            )
        },
        Row {
            peer: "127.0.0.1",
            ..row(
                "denied via trusted proxy",
                "/private/x",
                &[("x-forwarded-for", "203.0.113.9")],
                Judge::NotAsked,
                403,
                &[],
            )
        },
        row(
            "untrusted x-forwarded-for ignored",
            "/private/x",
            &[("x-forwarded-for", "203.0.113.9")],
            Judge::NotAsked,
            401,
            &[BEARER, BASIC],
        ),
    ]
}

/// RFC 9470 rows: how the user signed in is judged after roles and scopes.
#[rustfmt::skip]
fn step_up_rows() -> Vec<Row> {
    let signed_in = |roles, scopes, acr, ago| Judge::SignedIn(roles, scopes, acr, ago);
    let (admin, wire): (&'static [&'static str], &'static [&'static str]) = (&["admin"], &["wire"]);
    let post = |r: Row| Row { method: "POST", ..r };
    vec![
        row("step-up: no credentials, no error", "/payments/x", &[], Judge::NotAsked, 401, &[BEARER, BASIC]),
        row("step-up: no acr", "/payments/x", TOKEN, signed_in(&[], &[], None, Some(5)), 401, &[STEP_UP_ACR, BASIC]),
        row("step-up: acr not listed", "/payments/x", TOKEN, signed_in(&[], &[], Some("pwd"), Some(5)), 401, &[STEP_UP_ACR, BASIC]),
        row("step-up: acr listed (any of)", "/payments/x", TOKEN, signed_in(&[], &[], Some("phr"), None), 200, &[]),
        row("step-up: too old", "/settings/x", TOKEN, signed_in(admin, &[], None, Some(301)), 401, &[STEP_UP_AGE, BASIC]),
        row("step-up: no auth_time", "/settings/x", TOKEN, signed_in(admin, &[], Some("mfa"), None), 401, &[STEP_UP_AGE, BASIC]),
        row("step-up: exactly max_age", "/settings/x", TOKEN, signed_in(admin, &[], None, Some(300)), 200, &[]),
        row("step-up: role first (403, no sign-in helps)", "/settings/x", TOKEN, signed_in(&["dev"], &[], None, None), 403, &[]),
        post(row("step-up: scope first", "/wire/1", TOKEN, signed_in(&[], &[], None, None), 403, &[r#"Bearer realm="example", error="insufficient_scope", scope="wire""#])),
        post(row("step-up: both, acr short", "/wire/1", TOKEN, signed_in(&[], wire, Some("pwd"), Some(1)), 401, &[STEP_UP_BOTH_ACR, BASIC])),
        post(row("step-up: both, too old", "/wire/1", TOKEN, signed_in(&[], wire, Some("mfa"), Some(61)), 401, &[STEP_UP_BOTH_AGE, BASIC])),
        post(row("step-up: both met", "/wire/1", TOKEN, signed_in(&[], wire, Some("mfa"), Some(60)), 200, &[])),
    ]
}

fn engine() -> Engine {
    engine_for(CONFIG)
}

fn engine_for(config: &str) -> Engine {
    Engine::new(Config::parse(config, Path::new("/")).unwrap())
}

fn run(engine: &Engine, row: &Row) -> warden_core::Outcome {
    let method = Method::from_bytes(row.method.as_bytes()).unwrap();
    let uri: Uri = row.path.parse().unwrap();
    let mut headers = HeaderMap::new();
    for (k, v) in row.headers {
        headers.append(HeaderName::from_static(k), HeaderValue::from_static(v));
    }
    let parts = RequestParts {
        method: &method,
        uri: &uri,
        headers: &headers,
        peer: row.peer.parse().unwrap(),
        tls: false,
    };
    let config = engine.config();
    let facts = facts::read(parts, config, ForwardSource::Forwarded);
    let decision = match engine.begin(&facts, NOW) {
        Step::Decided(d) => {
            assert!(
                matches!(row.judge, Judge::NotAsked),
                "{}: decided without asking the authenticator",
                row.name
            );
            d
        }
        Step::Authenticate(pending) => {
            let authn = match row.judge {
                Judge::NotAsked => panic!("{}: the authenticator was asked", row.name),
                Judge::User(roles, scopes) => {
                    Authn::Authenticated(alice(roles, scopes, None, None))
                }
                Judge::SignedIn(roles, scopes, acr, ago) => {
                    Authn::Authenticated(alice(roles, scopes, acr, ago.map(|s| NOW - s)))
                }
                Judge::Reject(r) => Authn::Rejected(r),
                Judge::Down => Authn::Unavailable,
            };
            engine.finish(pending, authn, &facts, NOW)
        }
    };
    let ctx = RenderContext {
        config,
        facts: &facts,
        flavour: Flavour::Generic,
        decision_id: "test",
    };
    render(&decision, &ctx)
}

fn alice(roles: &[&str], scopes: &[&str], acr: Option<&str>, auth_time: Option<u64>) -> Identity {
    Identity {
        subject: "alice".into(),
        roles: roles.iter().map(|s| s.to_string()).collect(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        method: AuthMethod::Jwt,
        acr: acr.map(str::to_owned),
        auth_time,
        claims: None,
    }
}

#[test]
fn every_contract_row() {
    let engine = engine();
    let mut failures = Vec::new();
    for row in rows().into_iter().chain(step_up_rows()) {
        let outcome = run(&engine, &row);
        let challenges: Vec<&str> = outcome
            .headers
            .get_all("www-authenticate")
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        if outcome.status.as_u16() != row.status || challenges != row.challenges {
            failures.push(format!(
                "{}: got {} {challenges:?}, want {} {:?}",
                row.name, outcome.status, row.status, row.challenges
            ));
        }
        assert_eq!(outcome.headers["cache-control"], "no-store", "{}", row.name);
        if row.status == 503 {
            assert_eq!(outcome.headers["retry-after"], "5", "{}", row.name);
        }
        if row.status == 200 {
            assert!(
                outcome.headers.contains_key("x-auth-subject"),
                "{}",
                row.name
            );
        } else {
            assert_eq!(
                outcome.headers["content-type"], "application/problem+json",
                "{}",
                row.name
            );
            let body: serde_json::Value = serde_json::from_str(&outcome.body).unwrap();
            assert_eq!(body["status"], row.status, "{}", row.name);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// RFC 9728: with `[server] resource`, every Bearer challenge of every row names the metadata
/// right after `realm`, and nothing else changes; without it (the rows above), none does.
#[test]
fn every_bearer_challenge_names_the_resource_metadata() {
    let config = CONFIG.replacen(
        "realm = \"example\"\n",
        "realm = \"example\"\nresource = \"https://api.example/v1\"\nauthorization_servers = [\"https://idp.example\"]\n",
        1,
    );
    let engine = engine_for(&config);
    let named = r#"Bearer realm="example", resource_metadata="https://api.example/.well-known/oauth-protected-resource/v1""#;
    let mut failures = Vec::new();
    for row in rows().into_iter().chain(step_up_rows()) {
        let outcome = run(&engine, &row);
        let got: Vec<&str> = outcome
            .headers
            .get_all("www-authenticate")
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        let want: Vec<String> = (row.challenges.iter())
            .map(|c| c.replacen(BEARER, named, 1))
            .collect();
        if outcome.status.as_u16() != row.status || got != want {
            failures.push(format!("{}: got {got:?}, want {want:?}", row.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
