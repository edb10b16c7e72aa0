//! Operating warden (issue 13): the admin listener. Counters move by exactly what was sent
//! (decisions by rule, outcome and authenticator, the duration histogram, the JWT cache, the
//! store and state calls, attempt blocks), the health and config endpoints, secrets redacted,
//! 404/405, and none of it served on the public listener.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::admin::{self, METRICS_TYPE, Scrape, admin_addr, scrape, sha256_file};
use common::browser::room_in_window;
use common::jwks::{JwksServer, Mode};
use common::proxied;
use common::services::{PrivateRedis, free_port, redis_prefix, redis_state};
use common::tokens::token;
use common::upstream::Upstream;
use common::*;

const DECISIONS: &str = "warden_decisions_total";
const ADMIN: &str = "[admin]\nlisten = \"127.0.0.1:0\"\n";

/// The config with an admin listener.
fn with_admin(config: &str) -> String {
    format!("{config}{ADMIN}")
}

/// `after - before` for one sample.
fn delta(before: &Scrape, after: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    after.value(name, labels) - before.value(name, labels)
}

fn decision<'a>(rule: &'a str, outcome: &'a str, authn: &'a str) -> [(&'static str, &'a str); 3] {
    [
        ("rule", rule),
        ("outcome", outcome),
        ("authenticator", authn),
    ]
}

#[test]
fn counters_move_by_exactly_what_was_sent() {
    let limits = "[limits]\nfailures_per_ip = 1000\nfailures_per_user = 2\nwindow_seconds = 60\n\
                  [network]\n";
    let env = Env::new(&with_admin(&replace(
        &standard_config(),
        "[network]\n",
        limits,
    )));
    env.add_user("alice", "alice-pw", &[]);
    env.add_user("bob", "bob-pw", &[]);
    let warden = env.serve();
    let admin = admin_addr(&warden);
    // The failures below must land in one attempt window.
    room_in_window(60, Duration::from_secs(5));
    let user = bearer(&token("carol", &[], ""));
    let viewer = bearer(&token("dave", &["viewer"], ""));
    let before = scrape(admin);

    for _ in 0..3 {
        assert_eq!(warden.get("/private/x", &[]).status, 401);
    }
    for _ in 0..2 {
        let r = warden.get("/private/x", &[("Authorization", &user)]);
        assert_eq!(r.status, 200, "{r:#?}");
    }
    let r = warden.get("/admin/x", &[("Authorization", &viewer)]);
    assert_eq!(r.status, 403, "{r:#?}");
    assert_eq!(warden.get("/nowhere", &[]).status, 403);
    let wrong = basic("alice", "not-her-password");
    for _ in 0..2 {
        let r = warden.get("/private/x", &[("Authorization", &wrong)]);
        assert_eq!(r.status, 401, "{r:#?}");
    }
    let r = warden.get("/private/x", &[("Authorization", &wrong)]);
    assert_eq!(r.status, 429, "past the per-user limit: {r:#?}");
    let r = warden.get("/private/x", &[("Authorization", &basic("bob", "bob-pw"))]);
    assert_eq!(r.status, 200, "{r:#?}");
    // The nginx flavour counts its real status (429), not the mapped one (403).
    let nginx = [("X-Original-URI", "/private/y"), ("Authorization", &wrong)];
    let r = warden.get("/.warden/nginx", &nginx);
    assert_eq!(r.status, 403, "{r:#?}");
    assert_eq!(r.header("x-warden-status"), Some("429"), "{r:#?}");
    // Not decisions: warden's own health, the login page, admin requests.
    assert_eq!(warden.get("/.warden/health", &[]).status, 200);
    assert_eq!(warden.get("/.warden/login", &[]).status, 200);
    let _ = scrape(admin);
    assert_eq!(admin::get(admin, "/health/live").status, 200);

    let after = scrape(admin);
    let d = |name: &str, l: &[(&str, &str)]| delta(&before, &after, name, l);
    let want = [
        (decision("private", "401", "none"), 3.0),
        (decision("private", "allow", "jwt"), 2.0),
        (decision("admin", "403", "jwt"), 1.0),
        (decision("-", "403", "none"), 1.0),
        (decision("private", "401", "basic"), 2.0),
        (decision("private", "allow", "basic"), 1.0),
    ];
    for (l, n) in &want {
        assert_eq!(d(DECISIONS, l), *n, "{DECISIONS}{l:?}");
    }
    let blocked = [("rule", "private"), ("outcome", "429")];
    let moved_429 = after.sum(DECISIONS, &blocked) - before.sum(DECISIONS, &blocked);
    assert_eq!(moved_429, 2.0, "429 decisions (direct and nginx)");
    for s in after.matching(DECISIONS, &blocked) {
        let a = s.labels["authenticator"].as_str();
        assert!(matches!(a, "basic" | "none"), "429 authenticator {a}");
    }
    let total = after.sum(DECISIONS, &[]) - before.sum(DECISIONS, &[]);
    assert_eq!(
        total, 12.0,
        "one per judged request, none for health/login/admin"
    );
    let hist = "warden_decision_duration_seconds";
    assert_eq!(d(&format!("{hist}_count"), &[]), 12.0);
    assert_eq!(d(&format!("{hist}_bucket"), &[("le", "+Inf")]), 12.0);
    assert!(d(&format!("{hist}_sum"), &[]) > 0.0);

    let cache = "warden_cache_requests_total";
    assert_eq!(d(cache, &[("cache", "jwt"), ("result", "miss")]), 2.0);
    assert_eq!(d(cache, &[("cache", "jwt"), ("result", "hit")]), 1.0);
    let store = [("backend", "sqlite"), ("operation", "check_password")];
    let calls = "warden_store_call_duration_seconds_count";
    assert_eq!(d(calls, &store), 3.0, "2 wrong + bob; none while blocked");
    assert_eq!(d("warden_store_call_errors_total", &store), 0.0);
    let state = "warden_state_call_duration_seconds_count";
    let retry = [("backend", "memory"), ("operation", "retry_after")];
    assert_eq!(d(state, &retry), 5.0, "one per password check asked");
    let record = [("backend", "memory"), ("operation", "record_failure")];
    assert_eq!(d(state, &record), 2.0, "one per wrong password");
    assert_eq!(d("warden_attempt_blocks_total", &[]), 2.0);

    // Every label value is from its bounded set.
    for s in after.matching(DECISIONS, &[]) {
        let a = s.labels["authenticator"].as_str();
        let known = [
            "jwt",
            "basic",
            "api_key",
            "session",
            "oidc",
            "introspection",
            "none",
        ];
        assert!(known.contains(&a), "authenticator {a}");
        let o = s.labels["outcome"].as_str();
        let outcomes = [
            "allow",
            "preflight",
            "400",
            "401",
            "403",
            "404",
            "429",
            "431",
            "503",
        ];
        assert!(outcomes.contains(&o), "outcome {o}");
    }
}

#[test]
fn admin_endpoints_answer_as_specified() {
    let warden = Env::new(&with_admin(&standard_config())).serve();
    let admin = admin_addr(&warden);
    assert_ne!(admin, warden.addr);
    let hash = sha256_file(&warden.config);

    let r = admin::get(admin, "/metrics");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some(METRICS_TYPE));
    let m = admin::parse(&r.body);
    assert_eq!(m.value("warden_config_info", &[("hash", &hash)]), 1.0);
    assert_eq!(m.value("warden_config_last_reload_successful", &[]), 1.0);
    let jwks = [("result", "success")];
    assert!(
        m.value("warden_jwks_refreshes_total", &jwks) >= 1.0,
        "JWKS file read"
    );
    let r = send(admin, "HEAD", "/metrics", &[]);
    assert_eq!(r.status, 200, "{r:#?}");
    assert_eq!(r.header("content-type"), Some(METRICS_TYPE));
    assert!(r.body.is_empty(), "HEAD has no body: {r:#?}");

    let r = admin::get(admin, "/health/live");
    assert_eq!(r.status, 200);
    let ct = r.header("content-type").unwrap_or("");
    assert!(ct.starts_with("text/plain"), "{r:#?}");
    assert_eq!(r.body, "ok\n");

    let r = admin::get(admin, "/health/ready");
    assert_eq!(r.status, 200, "{r:#?}");
    assert!(
        r.header("content-type")
            .unwrap_or("")
            .starts_with("text/plain")
    );
    let lines: Vec<&str> = r.body.lines().collect();
    assert_eq!(lines.first(), Some(&"ready"), "{}", r.body);
    assert!(lines.contains(&"store (sqlite): up"), "{}", r.body);
    assert!(
        lines.contains(&format!("config: {hash}").as_str()),
        "{}",
        r.body
    );
    assert!(!r.body.contains("state (redis)"), "{}", r.body);
    assert!(!r.body.contains("last reload failed"), "{}", r.body);

    for (method, path) in [
        ("POST", "/metrics"),
        ("PUT", "/health/live"),
        ("DELETE", "/config"),
        ("POST", "/health/ready"),
    ] {
        let r = send_with_body(admin, method, path, &[], b"");
        assert_eq!(r.status, 405, "{method} {path}: {r:#?}");
    }
    for path in [
        "/",
        "/nope",
        "/metrics/x",
        "/health",
        "/.warden/health",
        "/private/x",
    ] {
        let r = admin::get(admin, path);
        assert_eq!(r.status, 404, "{path}: {r:#?}");
    }
}

#[test]
fn config_endpoint_shows_the_file_with_secrets_redacted() {
    const PW: &str = "Url-Pass-7c41e9";
    let jwks = JwksServer::start(Mode::Serve);
    let url = jwks
        .url
        .replacen("http://", &format!("http://reader:{PW}@"), 1);
    let source = format!("jwks_url = \"{url}\"\ndangerous_allow_http_jwks_url = true");
    // The htpasswd roles table takes any key: secret-sounding names among them.
    let roles = "[authn.basic]\nhtpasswd = \"users.htpasswd\"\n[authn.basic.roles]\n\
                 password = [\"p\"]\nclient_secret = [\"c\"]\nsecret = [\"s\"]\n\
                 db_password = [\"d\"]\napi_token = [\"t\"]\nx_secret = [\"x\"]\n\
                 passwords = [\"kept\"]\nsecretary = [\"kept\"]\n";
    let text = replace(&config_with_jwks(&source), "[authn.basic]\n", roles);
    let env = Env::new(&with_admin(&text));
    std::fs::write(env.dir.path.join("users.htpasswd"), "").unwrap();
    let warden = env.serve();
    let admin = admin_addr(&warden);
    // The keys came through the URL with its userinfo.
    let t = bearer(&token("alice", &[], ""));
    assert_eq!(
        warden.get("/private/x", &[("Authorization", &t)]).status,
        200
    );

    let r = admin::get(admin, "/config");
    assert_eq!(r.status, 200, "{r:#?}");
    let ct = r.header("content-type").unwrap_or("");
    assert!(ct.starts_with("application/json"), "{r:#?}");
    assert!(!r.body.contains(PW), "the URL password leaked: {}", r.body);
    let v = r.json();
    let path = v["path"].as_str().unwrap();
    let canonical = std::fs::canonicalize(&warden.config).unwrap();
    assert!(
        path == warden.config.to_str().unwrap() || path == canonical.to_str().unwrap(),
        "path {path}"
    );
    assert_eq!(v["hash"], sha256_file(&warden.config));
    let c = &v["config"];
    let redacted = jwks.url.replacen("http://", "http://reader:[redacted]@", 1);
    assert_eq!(c["authn"]["jwt"]["jwks_url"], redacted.as_str());
    let roles = &c["authn"]["basic"]["roles"];
    for key in [
        "password",
        "client_secret",
        "secret",
        "db_password",
        "api_token",
        "x_secret",
    ] {
        let v = &roles[key];
        let whole = *v == "[redacted]";
        let each = v
            .as_array()
            .is_some_and(|a| a.iter().all(|e| e == "[redacted]"));
        assert!(whole || each, "{key} not redacted: {v}");
    }
    assert_eq!(
        (&roles["passwords"][0], &roles["secretary"][0]),
        (&"kept".into(), &"kept".into())
    );
    // Everything else as written, typed.
    assert_eq!(c["version"], 1);
    assert_eq!(c["server"]["realm"], "example");
    assert_eq!(c["server"]["listen"], "127.0.0.1:0");
    assert_eq!(c["admin"]["listen"], "127.0.0.1:0");
    assert_eq!(c["authn"]["jwt"]["dangerous_allow_http_jwks_url"], true);
    assert_eq!(c["authn"]["api_key"]["header"], "X-API-Key");
    assert_eq!(c["network"]["trusted_proxies"][0], "127.0.0.1/32");
    let rules = c["rule"].as_array().unwrap();
    let names: Vec<&str> = rules.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["health", "private", "admin", "orders-write"]);
    assert_eq!(rules[2]["require"]["roles"][0], "admin");

    let m = admin::scrape(admin);
    let ok = m.value("warden_jwks_refreshes_total", &[("result", "success")]);
    assert!(ok >= 1.0, "a JWKS URL fetch");
    assert_eq!(
        m.value("warden_jwks_refreshes_total", &[("result", "failure")]),
        0.0
    );
}

/// The admin paths on the public listener are paths like any other: judged, no admin text.
#[test]
fn admin_paths_are_not_served_on_the_public_listener() {
    let warden = Env::new(&with_admin(&standard_config())).serve();
    let admin = admin_addr(&warden);
    let before = scrape(admin);
    for path in ["/metrics", "/health/live", "/health/ready", "/config"] {
        let r = warden.get(path, &[]);
        assert!(matches!(r.status, 401 | 403), "{path}: {r:#?}");
        assert!(!r.decision().is_empty(), "{path} was judged: {r:#?}");
        assert_ne!(r.header("content-type"), Some(METRICS_TYPE), "{path}");
        for text in [
            "# TYPE",
            "warden_",
            "ok\n",
            "ready",
            "\"hash\"",
            "jwks.json",
        ] {
            assert!(!r.body.contains(text), "{path} served {text:?}: {r:#?}");
        }
    }
    let after = scrape(admin);
    let judged = after.sum(DECISIONS, &[]) - before.sum(DECISIONS, &[]);
    assert_eq!(judged, 4.0, "each was a decision");

    // Without `[admin]` there is no admin listener at all.
    let plain = Env::new(&standard_config()).serve();
    assert_eq!(plain.get("/metrics", &[]).status, 403);
    std::thread::sleep(Duration::from_millis(300));
    let log = plain.log();
    assert!(
        !log.lines().any(|l| admin::admin_listen(l).is_some()),
        "{log}"
    );
}

/// Redis as state: its password redacted in /config, named in /health/ready, and a Redis
/// that is down makes warden not ready (503, `Retry-After: 5`) until it is back.
#[test]
fn health_ready_names_redis_and_its_outage() {
    const PW: &str = "Redis-Pass-41d7";
    let mut redis = PrivateRedis::start_with(free_port(), &["--requirepass", PW]);
    let url = format!("redis://:{PW}@127.0.0.1:{}", redis.port);
    let state = redis_state(&url, &redis_prefix());
    let warden = Env::new(&with_admin(&format!(
        "{}[state]\n{state}",
        standard_config()
    )))
    .serve();
    let admin = admin_addr(&warden);
    let r = admin::get(admin, "/config");
    assert!(
        !r.body.contains(PW),
        "the Redis password leaked: {}",
        r.body
    );
    let shown = format!("redis://:[redacted]@127.0.0.1:{}", redis.port);
    assert_eq!(r.json()["config"]["state"]["url"], shown.as_str());
    let ready = |want: u16| {
        poll_until(
            Duration::from_secs(10),
            &format!("/health/ready {want}"),
            || {
                let r = admin::get(admin, "/health/ready");
                (r.status == want).then_some(r)
            },
        )
    };
    let r = ready(200);
    let lines: Vec<&str> = r.body.lines().collect();
    assert_eq!(
        lines[..3],
        ["ready", "store (sqlite): up", "state (redis): up"],
        "{}",
        r.body
    );

    redis.kill();
    let r = ready(503);
    assert_eq!(r.all("retry-after"), ["5"], "{r:#?}");
    let lines: Vec<&str> = r.body.lines().collect();
    assert_eq!(lines.first(), Some(&"not ready"), "{}", r.body);
    assert!(lines.contains(&"state (redis): down"), "{}", r.body);
    assert!(lines.contains(&"store (sqlite): up"), "{}", r.body);
    assert_eq!(
        admin::get(admin, "/health/live").status,
        200,
        "alive while not ready"
    );
    redis.restart();
    let r = ready(200);
    assert!(
        r.body.lines().any(|l| l == "state (redis): up"),
        "{}",
        r.body
    );
}

/// Proxy mode: every upstream answer counted by status, an unreachable upstream as `error`.
#[test]
fn upstream_answers_are_counted_by_status() {
    let up = Upstream::start();
    let warden = Env::new(&with_admin(&proxied::proxy_config(&up.url(), ""))).serve();
    let admin = admin_addr(&warden);
    let before = scrape(admin);
    for target in ["/open/a", "/open/b", "/open/status/401", "/open/status/403"] {
        assert!(warden.get(target, &[]).status < 500, "{target}");
    }
    assert_eq!(
        warden.get("/private/x", &[]).status,
        401,
        "a denial goes nowhere"
    );
    let after = scrape(admin);
    let d = |name: &str, l: &[(&str, &str)]| delta(&before, &after, name, l);
    let responses = "warden_upstream_responses_total";
    assert_eq!(d(responses, &[("status", "200")]), 2.0);
    assert_eq!(d(responses, &[("status", "401")]), 1.0);
    assert_eq!(d(responses, &[("status", "403")]), 1.0);
    assert_eq!(after.sum(responses, &[]) - before.sum(responses, &[]), 4.0);
    assert_eq!(d("warden_upstream_duration_seconds_count", &[]), 4.0);
    assert_eq!(d(DECISIONS, &decision("open", "allow", "none")), 4.0);
    assert_eq!(up.count(), 4);

    let down = format!("http://127.0.0.1:{}", closed_port());
    let config = proxied::proxy_config(&down, "[proxy]\nconnect_timeout_seconds = 1\n");
    let warden = Env::new(&with_admin(&config)).serve();
    let admin = admin_addr(&warden);
    let r = warden.get("/open/x", &[]);
    assert!(r.status >= 500, "{r:#?}");
    let m = scrape(admin);
    assert_eq!(m.value(responses, &[("status", "error")]), 1.0);
}
