//! warden behind real front proxies: nginx (`auth_request`, the `/.warden/nginx` endpoint and
//! the `error_page` recipe of `examples/nginx/nginx.conf`) and Caddy (`forward_auth`,
//! `examples/caddy/Caddyfile`), both run from the example files. Each row asserts what the
//! client finally receives and what the app behind the proxy saw. Envoy and Traefik cannot be
//! installed here: their rows send warden requests shaped exactly as those proxies send them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::app::{IDENTITY, app_saw};
use common::browser::room_in_window;
use common::front::{Kind, Stack};
use common::shapes::{Client, Envoy, Shape, Traefik};
use common::tokens::token;
use common::*;

/// Failed password checks allowed per user (then 429), in windows of this many seconds.
const PER_USER: usize = 2;
const WINDOW: u64 = 60;
const LOGIN_DOC: &str = "/.warden/login?rd=%2Fprivate%2Fx";

const EXTRA_RULES: &str = r#"
[[rule]]
name = "secret"
path = "/secret/**"
require = { roles = ["admin"] }
hide = true
[[rule]]
name = "cross-origin"
path = "/xapi/**"
require = "authenticated"
cors = { origins = ["https://app.example"], credentials = true }
[[rule]]
name = "api-host"
host = "api.example.com"
path = "/v1/**"
allow = "anyone"
"#;

/// The PRODUCT config (login on: Basic is configured) plus a hidden rule, a CORS rule, a host
/// rule and a low per-user failure limit.
fn config() -> String {
    let limits = format!(
        "[limits]\nfailures_per_ip = 100\nfailures_per_user = {PER_USER}\n\
         window_seconds = {WINDOW}\n[network]\n"
    );
    replace(&standard_config(), "[network]\n", &limits) + EXTRA_RULES
}

fn admin() -> String {
    bearer(&token("alice", &["admin"], "orders:read"))
}

fn viewer() -> String {
    bearer(&token("bob", &["viewer"], "orders:read"))
}

type Row = (&'static str, fn(&Stack));

const ROWS: &[Row] = &[
    ("anonymous: 401 with every challenge", anonymous),
    ("admin token: 200, the app sees the identity", allowed),
    ("forbidden role: 403, no challenge", forbidden),
    ("missing scope: 403 insufficient_scope", missing_scope),
    ("bad token: 401 invalid_token", bad_token),
    ("malformed header: 400 invalid_request", malformed),
    ("hidden rule: 404", hidden),
    ("forged identity headers never reach the app", forged),
    ("cross-origin denial: readable by the page", cross_origin),
    ("browser navigation: 302/303 to sign-in", navigation),
    ("sign-in through the proxy, then the session", warden_pages),
];

fn matrix(kind: Kind) {
    let s = Stack::start(kind, &config());
    for (name, row) in ROWS {
        eprintln!("{kind:?}: {name}");
        row(&s);
    }
}

#[test]
fn nginx_matrix() {
    matrix(Kind::Nginx);
}

#[test]
fn caddy_matrix() {
    matrix(Kind::Caddy);
}

fn anonymous(s: &Stack) {
    let r = s.denied("GET", "/private/x", &[]);
    assert_eq!(r.status, 401, "{r:#?}");
    assert_eq!(r.challenges(), s.lines(&[BEARER, BASIC]), "{r:#?}");
    assert_eq!(r.all("cache-control"), ["no-store"], "{r:#?}");
    assert_eq!(r.all("x-warden-decision").len(), 1, "{r:#?}");
    // Caddy passes warden's problem document on; nginx always sends its own error page.
    let content_type = match s.front.kind {
        Kind::Caddy => PROBLEM,
        Kind::Nginx => "text/html",
    };
    assert_eq!(r.header("content-type"), Some(content_type), "{r:#?}");
}

fn allowed(s: &Stack) {
    let r = s.front.get("/admin/x", &[("Authorization", &admin())]);
    assert_eq!(r.status, 200, "{r:#?}\n{}", s.front.log());
    let want = ["alice", "admin", "orders:read", "jwt"];
    for (name, value) in IDENTITY.into_iter().zip(want) {
        assert_eq!(app_saw(&r, name), [value], "{name}");
    }
    let r = s.front.get("/health?q=1", &[]);
    assert_eq!(
        (r.status, r.json()["target"].clone()),
        (200, "/health?q=1".into())
    );
}

fn forbidden(s: &Stack) {
    let r = s.denied("GET", "/admin/x", &[("Authorization", &viewer())]);
    assert_eq!(r.status, 403, "{r:#?}");
    assert!(r.challenges().is_empty(), "{r:#?}");
    assert_eq!(r.all("cache-control"), ["no-store"], "{r:#?}");
}

fn missing_scope(s: &Stack) {
    let auth = viewer();
    let headers = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    let before = s.app.count();
    let r = send_with_body(s.front.addr, "POST", "/api/orders/1", &headers, b"{}");
    assert_eq!(s.app.count(), before, "reached the app");
    assert_eq!(r.status, 403, "{r:#?}");
    // nginx copies no header of a 403: the recipe adds the challenge back.
    assert_eq!(r.challenges(), [BEARER_SCOPE], "{r:#?}");
    let r = send_with_body(s.front.addr, "POST", "/api/orders/1", &[], b"{}");
    assert_eq!((r.status, r.challenges()), (401, s.lines(&[BEARER, BASIC])));
}

fn bad_token(s: &Stack) {
    let r = s.denied(
        "GET",
        "/private/x",
        &[("Authorization", "Bearer abc.def.ghi")],
    );
    assert_eq!(r.status, 401, "{r:#?}");
    assert_eq!(r.challenges(), s.lines(&[BEARER_INVALID, BASIC]), "{r:#?}");
}

fn malformed(s: &Stack) {
    let r = s.denied("GET", "/private/x", &[("Authorization", "Bearer a b")]);
    assert_eq!(r.status, 400, "{r:#?}");
    assert_eq!(r.challenges(), [BEARER_BAD_REQUEST], "{r:#?}");
}

fn hidden(s: &Stack) {
    let r = s.denied("GET", "/secret/x", &[("Authorization", &viewer())]);
    assert_eq!(r.status, 404, "{r:#?}");
    assert!(r.challenges().is_empty(), "{r:#?}");
}

fn cross_origin(s: &Stack) {
    let r = s.denied("GET", "/xapi/x", &[("Origin", "https://app.example")]);
    assert_eq!(r.status, 401, "{r:#?}");
    assert_eq!(
        r.all("access-control-allow-origin"),
        ["https://app.example"]
    );
    assert_eq!(r.all("access-control-allow-credentials"), ["true"]);
    let exposed = r
        .header("access-control-expose-headers")
        .unwrap_or_default();
    assert!(exposed.contains("WWW-Authenticate"), "{r:#?}");
}

fn forged(s: &Stack) {
    let forged = [
        ("X-Auth-Subject", "mallory"),
        ("x-auth-roles", "admin"),
        ("X-Auth-Method", "jwt"),
    ];
    let r = s.front.get("/health", &forged);
    assert_eq!(r.status, 200, "{r:#?}");
    for name in ["x-auth-subject", "x-auth-roles", "x-auth-method"] {
        // Empty (Caddy sets warden's empty value) or absent (nginx drops empty headers).
        let saw = app_saw(&r, name);
        assert!(saw.iter().all(String::is_empty), "{name}: {saw:?}");
    }
    let auth = admin();
    let mut headers = forged.to_vec();
    headers.push(("Authorization", &auth));
    let r = s.front.get("/private/x", &headers);
    assert_eq!(r.status, 200, "{r:#?}");
    assert_eq!(app_saw(&r, "x-auth-subject"), ["alice"]);
    assert_eq!(app_saw(&r, "x-auth-roles"), ["admin"]);
}

fn navigation(s: &Stack) {
    let nav = [("Accept", BROWSER_ACCEPT), ("Sec-Fetch-Mode", "navigate")];
    for (method, status) in [("GET", 302), ("HEAD", 302), ("POST", 303)] {
        let r = s.denied(method, "/private/x", &nav);
        assert_eq!(r.status, status, "{method}: {r:#?}\n{}", s.front.log());
        assert_eq!(r.all("location"), [LOGIN_DOC], "{method}: {r:#?}");
        assert_eq!(r.all("cache-control"), ["no-store"], "{method}: {r:#?}");
        // nginx cannot drop the challenge auth_request copied from the 401 it was given;
        // browsers ignore WWW-Authenticate on a redirect.
        let leftover = match s.front.kind {
            Kind::Caddy => vec![],
            Kind::Nginx => s.lines(&[BEARER, BASIC]),
        };
        assert_eq!(r.challenges(), leftover, "{method}: {r:#?}");
    }
    // API clients are never redirected.
    let r = s.denied("GET", "/private/x", &[("Accept", "application/json")]);
    assert_eq!(r.status, 401, "{r:#?}");
}

/// Sign-in through the proxy (the page, the form), then the session cookie is honoured.
fn warden_pages(s: &Stack) {
    s.warden.add_user("carla", "carla-pw", &["viewer"]);
    let session = s.sign_in("carla", "carla-pw", "/private/x");
    let r = s.front.get("/private/x", &[("Cookie", &session)]);
    assert_eq!(r.status, 200, "{r:#?}");
    assert_eq!(app_saw(&r, "x-auth-subject"), ["carla"]);
    assert_eq!(app_saw(&r, "x-auth-method"), ["session"]);
    let r = s.front.get("/.warden/health", &[]);
    assert_eq!(r.status, 200, "{r:#?}");
    if s.front.kind == Kind::Nginx {
        let r = s
            .front
            .get("/.warden/nginx", &[("X-Original-URI", "/health")]);
        assert_eq!(r.status, 404, "the auth endpoint is internal: {r:#?}");
    }
}

/// Past the per-user limit the client gets 429 with `Retry-After`, through both proxies.
#[test]
fn throttled_is_429_with_retry_after() {
    for kind in [Kind::Nginx, Kind::Caddy] {
        let s = Stack::start(kind, &config());
        room_in_window(WINDOW, Duration::from_secs(15));
        let auth = basic("carol", "wrong");
        for n in 1..=PER_USER {
            let r = s.denied("GET", "/private/x", &[("Authorization", &auth)]);
            assert_eq!(r.status, 401, "{kind:?} failure {n}: {r:#?}");
        }
        let r = s.denied("GET", "/private/x", &[("Authorization", &auth)]);
        assert_eq!(r.status, 429, "{kind:?}: {r:#?}\n{}", s.front.log());
        let retry = r.all("retry-after");
        assert_eq!(retry.len(), 1, "{kind:?}: {r:#?}");
        let seconds: u64 = retry[0].parse().unwrap();
        assert!((1..=WINDOW).contains(&seconds), "{kind:?}: {seconds}");
        assert!(r.challenges().is_empty(), "{kind:?}: {r:#?}");
        assert_eq!(r.all("cache-control"), ["no-store"], "{kind:?}");
    }
}

/// warden's own 503 (no JWT keys: the JWKS URL is down) reaches the client as 503 with
/// warden's `Retry-After`; nginx would show 500 without the recipe.
#[test]
fn warden_unavailable_is_503() {
    let url = format!("http://127.0.0.1:{}/jwks.json", closed_port());
    let jwks = format!("jwks_url = \"{url}\"\ndangerous_allow_http_jwks_url = true");
    for kind in [Kind::Nginx, Kind::Caddy] {
        let s = Stack::start(kind, &config_with_jwks(&jwks));
        let r = s.denied("GET", "/admin/x", &[("Authorization", &admin())]);
        assert_eq!(r.status, 503, "{kind:?}: {r:#?}\n{}", s.front.log());
        let direct = s.warden.get("/admin/x", &[("Authorization", &admin())]);
        assert_eq!(direct.status, 503, "{direct:#?}");
        assert_eq!(r.all("retry-after"), direct.all("retry-after"), "{kind:?}");
        assert!(r.challenges().is_empty(), "{kind:?}: {r:#?}");
    }
}

/// warden stopped: nginx answers 503 with a `Retry-After` (never 500, never the app); Caddy
/// answers 502 (its reverse_proxy's own error), closed too.
#[test]
fn warden_down_fails_closed() {
    for (kind, status) in [(Kind::Nginx, 503), (Kind::Caddy, 502)] {
        let mut s = Stack::start(kind, &config());
        assert_eq!(s.front.get("/health", &[]).status, 200);
        s.warden.terminate();
        let auth = admin();
        for headers in [vec![], vec![("Authorization", auth.as_str())]] {
            for path in ["/health", "/admin/x"] {
                let r = s.denied("GET", path, &headers);
                assert_eq!(r.status, status, "{kind:?} {path}: {r:#?}");
                if kind == Kind::Nginx {
                    assert_eq!(r.all("retry-after"), ["5"], "{r:#?}");
                    assert_eq!(r.all("cache-control"), ["no-store"], "{r:#?}");
                }
            }
        }
    }
}

/// Envoy and Traefik as the examples configure them: what warden answers to their requests
/// (each passes a denial on to the client as it is, and an allow's identity to the app).
#[test]
fn envoy_and_traefik_requests() {
    let warden = Env::new(&config()).serve();
    for shape in [Shape::Envoy, Shape::Traefik] {
        shaped_rows(shape, warden.addr);
    }
}

fn shaped_rows(shape: Shape, w: SocketAddr) {
    let (admin, viewer) = (admin(), viewer());
    let r = shape.ask(w, &Client::get("/private/x"));
    assert_eq!(r.status, 401, "{shape:?}: {r:#?}");
    assert_eq!(r.challenges(), [BEARER, BASIC], "{shape:?}");
    assert_eq!(r.all("cache-control"), ["no-store"], "{shape:?}");
    let r = shape.ask(
        w,
        &Client::get("/admin/x?q=1").header("Authorization", &admin),
    );
    assert_eq!(r.status, 200, "{shape:?}: {r:#?}");
    let identity = [("x-auth-subject", "alice"), ("x-auth-roles", "admin")];
    for (name, value) in identity.into_iter().chain([("x-auth-method", "jwt")]) {
        assert_eq!(r.all(name), [value], "{shape:?}");
    }
    let r = shape.ask(
        w,
        &Client::get("/health").header("X-Auth-Subject", "mallory"),
    );
    assert_eq!(r.status, 200, "{shape:?}: {r:#?}");
    for name in IDENTITY {
        assert_eq!(r.all(name), [""], "{shape:?}: every identity header, empty");
    }
    let post = Client::get("/api/orders/1").method("POST");
    let r = shape.ask(w, &post.clone().header("Authorization", &viewer));
    assert_eq!((r.status, r.challenges()), (403, vec![BEARER_SCOPE.into()]));
    let r = shape.ask(
        w,
        &Client::get("/private/x").header("Authorization", "Bearer abc.def.ghi"),
    );
    assert_eq!(r.challenges(), [BEARER_INVALID, BASIC], "{shape:?}");
    for (method, status) in [("GET", 302), ("POST", 303)] {
        let nav = Client::get("/private/x").method(method);
        let nav = nav
            .header("Accept", BROWSER_ACCEPT)
            .header("Sec-Fetch-Mode", "navigate");
        let r = shape.ask(w, &nav);
        assert_eq!(
            (r.status, r.all("location")),
            (status, vec![LOGIN_DOC.into()])
        );
    }
    // The client's address and the Host it asked for are the proxy's to report.
    let r = shape.ask(w, &Client::get("/health").ip("203.0.113.9"));
    assert_eq!(
        (r.status, r.code()),
        (403, "network_denied".into()),
        "{shape:?}"
    );
    let r = shape.ask(w, &Client::get("/v1/x").host("api.example.com"));
    assert_eq!(r.status, 200, "{shape:?}: host rule: {r:#?}");
    assert_eq!(shape.ask(w, &Client::get("/v1/x")).status, 403, "{shape:?}");
}

/// What the examples must say for those answers to hold.
#[test]
fn envoy_and_traefik_examples_fit_the_contract() {
    let envoy = Envoy::from_example();
    assert_eq!(envoy.upstream_names(), IDENTITY, "allowed_upstream_headers");
    assert!(envoy.configures("status_on_error: { code: ServiceUnavailable }"));
    // No prefix: warden would judge it as part of the path (no rule: 403 for everything).
    assert!(!envoy.configures("path_prefix"), "path_prefix");
    let w = Env::new(&config()).serve();
    let auth = admin();
    let prefixed = Client::get("/authz/admin/x").header("Authorization", &auth);
    let r = envoy.check(w.addr, &prefixed);
    assert_eq!((r.status, r.code()), (403, "no_rule".into()), "{r:#?}");
    // warden believes forwarded headers from Envoy: a client must never be able to send them.
    for name in ["X-Forwarded-Uri", "X-Forwarded-Method", "X-Forwarded-Host"] {
        assert!(!envoy.passes(name), "envoy.yaml passes the client's {name}");
    }
    for name in ["Cookie", "X-API-Key", "Accept", "Sec-Fetch-Mode", "Origin"] {
        assert!(envoy.passes(name), "envoy.yaml does not pass {name}");
    }
    let traefik = Traefik::from_example();
    assert_eq!(traefik.response_names(), IDENTITY, "authResponseHeaders");
    assert!(!traefik.address_path().starts_with("/.warden/"), "address");
    assert!(traefik.yaml.contains("trustForwardHeader: true"));
}
