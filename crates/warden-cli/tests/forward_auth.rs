//! Forward auth: forwarded headers from trusted and untrusted peers, the nginx flavour, HEAD,
//! reserved paths, and JWKS outages (503, never 401; cached keys survive).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::jwks::{JwksServer, Mode};
use common::tokens::token;
use common::*;

const HOST_RULE: &str = r#"
[[rule]]
name = "api-host"
host = "api.example.com"
path = "/v1/**"
allow = "anyone"
[[rule]]
name = "secret"
path = "/secret/**"
require = { roles = ["admin"] }
hide = true
"#;

fn config() -> String {
    standard_config() + HOST_RULE
}

fn untrusted_config() -> String {
    replace(
        &config(),
        r#"trusted_proxies = ["127.0.0.1/32"]"#,
        "trusted_proxies = []",
    )
}

fn admin() -> String {
    bearer(&token("alice", &["admin"], "orders:write"))
}

fn viewer() -> String {
    bearer(&token("bob", &["viewer"], "orders:read"))
}

fn both() -> Vec<String> {
    vec![BEARER.to_owned(), BASIC.to_owned()]
}

#[test]
fn trusted_proxy_forwarded_headers_describe_the_request() {
    let warden = Env::new(&config()).serve();
    let fwd = |uri: &str, extra: &[(&str, &str)]| {
        let mut h = vec![("X-Forwarded-Uri", uri)];
        h.extend_from_slice(extra);
        warden.get("/", &h)
    };
    let r = fwd("/admin/x", &[]);
    assert_eq!(
        (r.status, r.challenges()),
        (401, both()),
        "GET / judged as /admin/x"
    );
    let r = fwd("/admin/x", &[("Authorization", &viewer())]);
    assert_eq!((r.status, r.code()), (403, "forbidden".to_owned()));
    let r = fwd("/admin/x", &[("Authorization", &admin())]);
    assert_eq!(r.status, 200, "{r:#?}");
    assert_eq!(r.all("x-auth-subject"), ["alice"]);
    let r = fwd("/health?x=1", &[]);
    assert_eq!(r.status, 200, "query in X-Forwarded-Uri");

    let post = [("X-Forwarded-Method", "POST"), ("Authorization", &viewer())];
    let r = fwd("/api/orders/1", &post);
    assert_eq!(
        (r.status, r.challenges()),
        (403, vec![BEARER_SCOPE.to_owned()])
    );
    let r = fwd(
        "/api/orders/1",
        &[("X-Forwarded-Method", "POST"), ("Authorization", &admin())],
    );
    assert_eq!(r.status, 200, "{r:#?}");
    let r = fwd("/api/orders/1", &[("Authorization", &admin())]);
    assert_eq!(
        (r.status, r.code()),
        (403, "no_rule".to_owned()),
        "method is GET without the header"
    );

    let r = fwd("/v1/x", &[("X-Forwarded-Host", "api.example.com")]);
    assert_eq!(r.status, 200, "X-Forwarded-Host: {r:#?}");
    let r = warden.get(
        "/",
        &[("X-Forwarded-Uri", "/v1/x"), ("Host", "api.example.com")],
    );
    assert_eq!(r.status, 200, "own Host when no X-Forwarded-Host");
    let r = fwd(
        "/v1/x",
        &[
            ("X-Forwarded-Host", "evil.example"),
            ("Host", "api.example.com"),
        ],
    );
    assert_eq!(r.status, 403, "X-Forwarded-Host wins over Host");

    let r = fwd("/private/a%2Fb", &[("Authorization", &admin())]);
    assert_eq!((r.status, r.code()), (400, "bad_path".to_owned()));
    let r = fwd("/private/../admin/x", &[("Authorization", &viewer())]);
    assert_eq!(r.status, 403, "forwarded paths are normalized");
    let r = fwd(
        "/private/x?access_token=abc",
        &[("Authorization", &admin())],
    );
    assert_eq!(
        (r.status, r.challenges()),
        (400, vec![BEARER_BAD_REQUEST.to_owned()])
    );
}

#[test]
fn untrusted_peer_forwarded_headers_are_ignored() {
    let warden = Env::new(&untrusted_config()).serve();
    let r = warden.get("/health", &[("X-Forwarded-Uri", "/admin/x")]);
    assert_eq!(r.status, 200, "judged /health, not /admin/x: {r:#?}");
    let r = warden.get("/admin/x", &[("X-Forwarded-Uri", "/health")]);
    assert_eq!((r.status, r.challenges()), (401, both()));
    let r = warden.get(
        "/private/x",
        &[
            ("X-Forwarded-Method", "POST"),
            ("X-Forwarded-Uri", "/api/orders/1"),
            ("Authorization", &viewer()),
        ],
    );
    assert_eq!(r.status, 200, "judged GET /private/x");
    let r = warden.get("/v1/x", &[("X-Forwarded-Host", "api.example.com")]);
    assert_eq!(r.status, 403, "X-Forwarded-Host ignored");
    // X-Forwarded-For from an untrusted peer does not make it a denied network …
    let r = warden.get("/health", &[("X-Forwarded-For", "203.0.113.7")]);
    assert_eq!(r.status, 200, "{r:#?}");
    let r = warden.get("/private/x", &[("X-Forwarded-For", "203.0.113.7")]);
    assert_eq!((r.status, r.challenges()), (401, both()));
    // … nor are X-Original-* believed on the nginx endpoint.
    let r = warden.get("/.warden/nginx", &[("X-Original-URI", "/health")]);
    assert_eq!(r.status, 403, "judged /.warden/nginx itself: {r:#?}");
}

#[test]
fn nginx_flavour() {
    let warden = Env::new(&config()).serve();
    let nginx = |uri: &str, extra: &[(&str, &str)]| {
        let mut h = vec![("X-Original-URI", uri)];
        h.extend_from_slice(extra);
        warden.get("/.warden/nginx", &h)
    };
    let one = |s: &str| vec![s.to_owned()];
    let both_line = format!("{BEARER}, {BASIC}");
    let status = |r: &Response| r.header("x-warden-status").unwrap_or("<none>").to_owned();

    let r = nginx("/admin/x", &[]);
    assert_eq!(
        (r.status, r.challenges(), status(&r)),
        (401, one(&both_line), "401".into())
    );
    let r = nginx("/admin/x", &[("Authorization", &admin())]);
    assert_eq!(r.status, 200, "{r:#?}");
    assert_eq!(r.all("x-auth-subject"), ["alice"]);
    let r = nginx("/admin/x", &[("Authorization", &viewer())]);
    assert_eq!(
        (r.status, r.challenges(), status(&r)),
        (403, vec![], "403".into())
    );
    let r = nginx("/secret/x", &[("Authorization", &viewer())]);
    assert_eq!(
        (r.status, r.challenges(), status(&r)),
        (403, vec![], "404".into()),
        "404 → 403"
    );
    let r = nginx("/admin/x", &[("Authorization", "Bearer a b")]);
    assert_eq!(
        (r.status, r.challenges(), status(&r)),
        (401, one(BEARER_BAD_REQUEST), "400".into()),
        "400 → 401"
    );
    assert_eq!(r.code(), "invalid_request");
    assert_eq!(
        r.json()["status"],
        401,
        "problem status equals the HTTP status"
    );
    let big = format!("Bearer {}", "a".repeat(9000));
    let r = nginx("/admin/x", &[("Authorization", &big)]);
    assert_eq!(r.status, 401, "431 → 401");
    assert_eq!(status(&r), "431");
    assert_eq!(r.challenges().len(), 1, "{:?}", r.challenges());
    let r = nginx("/private/a%2Fb", &[]);
    assert_eq!(
        (r.status, status(&r)),
        (401, "400".into()),
        "bad path 400 → 401"
    );
    assert_eq!(r.challenges().len(), 1, "{:?}", r.challenges());
    let r = nginx("/admin/x", &[("Authorization", "Bearer abc.def.ghi")]);
    assert_eq!(r.challenges(), one(&format!("{BEARER_INVALID}, {BASIC}")));
    let r = nginx(
        "/api/orders/1",
        &[("X-Original-Method", "POST"), ("Authorization", &viewer())],
    );
    assert_eq!(
        (r.status, r.challenges()),
        (403, one(BEARER_SCOPE)),
        "X-Original-Method"
    );
    let r = nginx("/health", &[]);
    assert_eq!(r.status, 200, "{r:#?}");

    // A client-sent X-Forwarded-Uri has no effect on the nginx endpoint.
    let r = nginx("/admin/x", &[("X-Forwarded-Uri", "/health")]);
    assert_eq!(r.status, 401, "X-Original-URI wins");
    let r = warden.get("/.warden/nginx", &[("X-Forwarded-Uri", "/health")]);
    assert_eq!(
        (r.status, r.code()),
        (403, "no_rule".to_owned()),
        "X-Forwarded-Uri ignored"
    );
    // … and neither does a client-sent X-Forwarded-For.
    let r = nginx("/health", &[("X-Forwarded-For", "203.0.113.7")]);
    assert_eq!(r.status, 200, "{r:#?}");
}

/// "The real status is always in X-Warden-Status", allows included.
#[test]
fn nginx_allow_carries_the_real_status() {
    let warden = Env::new(&config()).serve();
    let r = warden.get("/.warden/nginx", &[("X-Original-URI", "/health")]);
    assert_eq!(r.status, 200, "{r:#?}");
    assert_eq!(r.header("x-warden-status"), Some("200"), "{r:#?}");
    let auth = admin();
    let r = warden.get(
        "/.warden/nginx",
        &[("X-Original-URI", "/admin/x"), ("Authorization", &auth)],
    );
    assert_eq!(r.status, 200, "{r:#?}");
    assert_eq!(r.header("x-warden-status"), Some("200"), "{r:#?}");
}

/// HEAD gets GET's status and headers (Content-Length included) and no body.
#[test]
fn head_matches_get() {
    let warden = Env::new(&config()).serve();
    let (admin, viewer) = (admin(), viewer());
    let cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("/health", vec![]),
        ("/private/x", vec![]),
        ("/private/x", vec![("Accept", "text/plain")]),
        ("/private/x", vec![("Sec-Fetch-Mode", "navigate")]),
        ("/admin/x", vec![("Authorization", &admin)]),
        ("/admin/x", vec![("Authorization", &viewer)]),
        ("/admin/x", vec![("Authorization", "Bearer a b")]),
        ("/admin/x", vec![("Authorization", "Bearer abc.def.ghi")]),
        ("/secret/x", vec![("Authorization", &viewer)]),
        ("/private/a%2Fb", vec![]),
        ("/nothing", vec![]),
    ];
    for (path, h) in &cases {
        let get = warden.send("GET", path, h);
        let head = warden.send("HEAD", path, h);
        assert_eq!(head.status, get.status, "HEAD {path} {h:?}");
        assert_eq!(
            stable_headers(&head),
            stable_headers(&get),
            "HEAD {path} {h:?}"
        );
        assert_eq!(head.body, "", "HEAD {path} {h:?} has a body");
        assert_eq!(
            get.header("content-length"),
            Some(get.body.len().to_string().as_str()),
            "GET {path}"
        );
    }
}

#[test]
fn reserved_paths() {
    let warden = Env::new(&config()).serve();
    let r = warden.get("/.warden/health", &[]);
    assert_eq!(r.status, 200, "{r:#?}");
    let r = warden.send("HEAD", "/.warden/health", &[]);
    assert_eq!((r.status, r.body.as_str()), (200, ""));
    for path in [
        "/.warden/nope",
        "/.warden/",
        "/.warden/login/x",
        "/.warden/health/x",
    ] {
        let r = warden.get(path, &[("Authorization", &admin())]);
        assert_eq!(r.status, 404, "{path}: {r:#?}");
    }
    // Health is not affected by forwarded headers or a denied client network.
    let r = warden.get("/.warden/health", &[("X-Forwarded-Uri", "/admin/x")]);
    assert_eq!(r.status, 200);
}

/// With a JWKS URL and no key ever loaded, bearer JWTs get 503 + Retry-After, never 401;
/// everything that needs no key is answered as usual.
#[test]
fn jwks_unreachable_is_503_not_401() {
    let url = format!("http://127.0.0.1:{}/jwks.json", closed_port());
    jwks_down_cases(&url);
    let failing = JwksServer::start(Mode::Fail);
    jwks_down_cases(&failing.url);
    assert!(failing.hits() >= 1, "warden never asked the JWKS server");
}

fn url_config(url: &str) -> String {
    config_with_jwks(&format!(
        "jwks_url = \"{url}\"\ndangerous_allow_http_jwks_url = true\nrefresh_seconds = 10"
    )) + HOST_RULE
}

fn jwks_down_cases(url: &str) {
    let env = Env::new(&url_config(url));
    let key = env.create_key("ci", &["admin"]);
    let warden = env.serve();
    for (path, auth) in [
        ("/admin/x", admin()),
        ("/private/x", viewer()),
        ("/private/x", bearer("abc.def.ghi")),
    ] {
        let r = warden.get(path, &[("Authorization", &auth)]);
        assert_eq!(r.status, 503, "{url} {path}: {r:#?}");
        assert!(
            r.header("retry-after")
                .is_some_and(|v| v.parse::<u32>().is_ok()),
            "{r:#?}"
        );
        assert!(r.challenges().is_empty(), "{:?}", r.challenges());
        assert_eq!(r.header("cache-control"), Some("no-store"));
        assert_eq!(
            (r.code(), r.json()["status"].clone()),
            ("unavailable".to_owned(), 503.into())
        );
        let leaked = leaks(&r.body);
        assert!(leaked.is_empty(), "body leaks {leaked:?}: {}", r.body);
        assert!(
            !r.body.contains("127.0.0.1"),
            "body names the JWKS URL: {}",
            r.body
        );
    }
    let r = warden.get(
        "/.warden/nginx",
        &[("X-Original-URI", "/admin/x"), ("Authorization", &admin())],
    );
    assert_eq!(r.status, 503, "nginx flavour keeps 503");
    assert_eq!(r.header("x-warden-status"), Some("503"));
    assert!(r.header("retry-after").is_some());
    let r = warden.get("/private/x", &[]);
    assert_eq!(
        (r.status, r.challenges()),
        (401, both()),
        "no credentials is still 401"
    );
    let r = warden.get("/health", &[]);
    assert_eq!(r.status, 200);
    let r = warden.get("/admin/x", &[("X-API-Key", &key)]);
    assert_eq!(r.status, 200, "API keys need no JWKS");
    let r = warden.get("/private/x", &[("Authorization", "Bearer a b")]);
    assert_eq!(r.status, 400, "syntax errors need no JWKS");
}

/// The JWKS comes up after warden: tokens work once it has been fetched.
#[test]
fn jwks_recovery_is_picked_up() {
    let jwks = JwksServer::start(Mode::Fail);
    let warden = Env::new(&url_config(&jwks.url)).serve();
    let get = || {
        warden
            .get("/admin/x", &[("Authorization", &admin())])
            .status
    };
    assert_eq!(get(), 503);
    jwks.set_mode(Mode::Serve);
    poll_until(
        Duration::from_secs(25),
        "tokens to work after the JWKS recovered",
        || (get() == 200).then_some(()),
    );
}

/// Keys once loaded stay in force while the JWKS URL fails (500, then a dropped connection).
#[test]
fn cached_keys_survive_a_jwks_outage() {
    let mut jwks = JwksServer::start(Mode::Serve);
    let warden = Env::new(&url_config(&jwks.url)).serve();
    let get = |auth: &str| warden.get("/admin/x", &[("Authorization", auth)]).status;
    assert_eq!(get(&admin()), 200);
    for mode in [Mode::Fail, Mode::HangUp] {
        jwks.set_mode(mode);
        let before = jwks.hits();
        poll_until(Duration::from_secs(25), "a JWKS refresh attempt", || {
            (jwks.hits() > before).then_some(())
        });
        // Give warden a moment to process the failed refresh.
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(get(&admin()), 200, "after a failed refresh ({mode:?})");
        assert_eq!(get(&viewer()), 403, "({mode:?})");
        assert_eq!(
            get("Bearer abc.def.ghi"),
            401,
            "bad tokens stay 401 ({mode:?})"
        );
    }
    jwks.stop();
    assert_eq!(get(&admin()), 200, "JWKS server gone");
}

/// The nginx endpoint believes a client address only from the header the configuration names
/// (the recipe's `proxy_set_header X-Real-IP $remote_addr`), and only from a trusted peer.
#[test]
fn nginx_client_address_comes_only_from_the_named_header() {
    let denied = [("X-Original-URI", "/health"), ("X-Real-IP", "203.0.113.9")];
    let forged_xff = [
        ("X-Original-URI", "/health"),
        ("X-Forwarded-For", "203.0.113.9"),
    ];
    let named = replace(
        &config(),
        "trusted_proxies = [",
        "nginx_client_header = \"X-Real-IP\"\ntrusted_proxies = [",
    );
    let warden = Env::new(&named).serve();
    let r = warden.get("/.warden/nginx", &denied);
    assert_eq!((r.status, r.code()), (403, "network_denied".to_owned()));
    assert_eq!(r.header("x-warden-status"), Some("403"));
    let r = warden.get("/.warden/nginx", &forged_xff);
    assert_eq!(
        r.status, 200,
        "X-Forwarded-For is not believed there: {r:#?}"
    );

    let unnamed = Env::new(&config()).serve();
    let r = unnamed.get("/.warden/nginx", &denied);
    assert_eq!(r.status, 200, "not named, not believed: {r:#?}");

    let untrusted = replace(
        &named,
        r#"trusted_proxies = ["127.0.0.1/32"]"#,
        "trusted_proxies = []",
    );
    let warden = Env::new(&untrusted).serve();
    let r = warden.get("/.warden/nginx", &[("X-Real-IP", "203.0.113.9")]);
    assert_ne!(
        r.code(),
        "network_denied",
        "untrusted peers are not believed"
    );
}
