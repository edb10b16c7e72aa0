//! Basic against the store and API keys, managed with the CLI; no user enumeration; a running
//! server sees every change without a restart.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::*;

fn invalid_key() -> Vec<String> {
    vec![BEARER_INVALID.to_owned(), BASIC.to_owned()]
}

fn both() -> Vec<String> {
    vec![BEARER.to_owned(), BASIC.to_owned()]
}

#[test]
fn basic_users_get_identity_roles_and_403() {
    let env = Env::new(&standard_config());
    env.add_user("alice", "s3cret: with colon", &["admin", "ops"]);
    env.add_user("bob", "pw-bob", &[]);
    let warden = env.serve();
    let alice = basic("alice", "s3cret: with colon");
    let r = warden.get("/admin/x", &[("Authorization", &alice)]);
    assert_eq!(r.status, 200, "{r:#?}");
    assert_eq!(r.all("x-auth-subject"), ["alice"]);
    assert_eq!(r.all("x-auth-roles"), ["admin,ops"]);
    assert_eq!(r.all("x-auth-scopes"), [""]);
    assert_eq!(r.all("x-auth-method"), ["basic"]);
    assert_eq!(r.body, "");

    let bob = basic("bob", "pw-bob");
    let r = warden.get("/private/x", &[("Authorization", &bob)]);
    assert_eq!(r.status, 200, "{r:#?}");
    assert_eq!(r.all("x-auth-roles"), [""]);
    let r = warden.get("/admin/x", &[("Authorization", &bob)]);
    assert_eq!(r.status, 403, "a valid user without the role: {r:#?}");
    assert!(r.challenges().is_empty(), "{:?}", r.challenges());
    assert_eq!(r.code(), "forbidden");
}

/// Unknown user, wrong password, disabled account, bad base64 and a missing colon get the same
/// answer: status, headers (but date and decision id) and body (but the decision id), for
/// every body format.
#[test]
fn failed_basic_logins_are_indistinguishable() {
    let env = Env::new(&standard_config());
    env.add_user("alice", "right", &["admin"]);
    env.add_user("dora", "right", &["admin"]);
    env.cli(&["user", "disable", "dora"], None).ok();
    let warden = env.serve();
    let attempts = [
        ("unknown user", basic("zed", "right")),
        ("wrong password", basic("alice", "wrong")),
        ("disabled user", basic("dora", "right")),
        ("bad base64", "Basic %%%".to_owned()),
        ("no colon", "Basic YWxpY2U=".to_owned()),
    ];
    for accept in ["application/json", "text/plain"] {
        let answers: Vec<(&str, Response)> = attempts
            .iter()
            .map(|(name, auth)| {
                let r = warden.get("/admin/x", &[("Authorization", auth), ("Accept", accept)]);
                (*name, r)
            })
            .collect();
        let (first_name, first) = &answers[0];
        assert_eq!(first.status, 401, "{first:#?}");
        assert_eq!(first.challenges(), both());
        for (name, r) in &answers[1..] {
            assert_eq!(r.status, first.status, "{name} vs {first_name} ({accept})");
            assert_eq!(
                stable_headers(r),
                stable_headers(first),
                "headers: {name} vs {first_name} ({accept})"
            );
            assert_eq!(
                stable_body(r),
                stable_body(first),
                "body: {name} vs {first_name} ({accept})"
            );
        }
    }
}

fn median_ms(mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..5)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[2]
}

/// An unknown user and a disabled account cost a password verification like a wrong
/// password, so timing does not tell whether a name exists (loose bound: at least 30%).
#[test]
fn unknown_users_cost_a_password_check() {
    let env = Env::new(&standard_config());
    env.add_user("alice", "right", &[]);
    env.add_user("dora", "right", &[]);
    env.cli(&["user", "disable", "dora"], None).ok();
    let warden = env.serve();
    let attempt = |auth: &str| {
        let r = warden.get("/private/x", &[("Authorization", auth)]);
        assert_eq!(r.status, 401);
    };
    let wrong = median_ms(|| attempt(&basic("alice", "wrong")));
    let unknown = median_ms(|| attempt(&basic("nobody", "wrong")));
    let disabled = median_ms(|| attempt(&basic("dora", "right")));
    for (what, ms) in [("unknown user", unknown), ("disabled user", disabled)] {
        assert!(
            ms >= wrong * 0.3,
            "{what} {ms:.1} ms vs wrong password {wrong:.1} ms"
        );
    }
}

#[test]
fn api_keys_as_bearer_and_header() {
    let env = Env::new(&standard_config());
    let key = env.create_key("ci", &["deployer", "admin"]);
    let warden = env.serve();
    for headers in [
        [("Authorization", bearer(&key))],
        [("X-API-Key", key.clone())],
        [("x-api-key", key.clone())],
    ] {
        let h: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let r = warden.get("/admin/x", &h);
        assert_eq!(r.status, 200, "{h:?}: {r:#?}");
        assert_eq!(r.all("x-auth-subject"), ["ci"]);
        assert_eq!(r.all("x-auth-roles"), ["deployer,admin"]);
        assert_eq!(r.all("x-auth-scopes"), [""]);
        assert_eq!(r.all("x-auth-method"), ["api_key"]);
    }
    // One character off is an unknown key.
    let mut wrong = key.clone();
    let last = wrong.pop().unwrap();
    wrong.push(if last == 'A' { 'B' } else { 'A' });
    let r = warden.get("/private/x", &[("X-API-Key", &wrong)]);
    assert_eq!((r.status, r.challenges()), (401, invalid_key()));
    assert_eq!(r.code(), "invalid_token");
    assert!(!r.body.contains(&wrong), "the key is echoed: {}", r.body);
}

/// Polls `get` until it answers `want`; the contract allows a running server one second to see
/// a CLI change (successful checks are cached that long), so more than 1.5 s is a failure.
fn within_a_second(what: &str, want: u16, get: impl Fn() -> common::Response) -> common::Response {
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(1500);
    loop {
        let r = get();
        if r.status == want {
            return r;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: still {} after 1.5 s",
            r.status
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// `warden user …` and `warden key …` act on a running server within a second.
#[test]
fn live_changes_without_restart() {
    let env = Env::new(&standard_config());
    env.add_user("alice", "first", &["admin"]);
    let warden = env.serve();
    let get = |auth: &str| warden.get("/admin/x", &[("Authorization", auth)]);

    assert_eq!(get(&basic("alice", "first")).status, 200);
    warden.cli(&["user", "disable", "alice"], None).ok();
    let r = within_a_second("after disable", 401, || get(&basic("alice", "first")));
    assert_eq!(r.challenges(), both(), "after disable");
    assert_eq!(r.code(), "invalid_credentials");
    warden.cli(&["user", "enable", "alice"], None).ok();
    assert_eq!(get(&basic("alice", "first")).status, 200, "after enable");

    warden
        .cli(
            &["user", "passwd", "alice", "--password-stdin"],
            Some("second\n"),
        )
        .ok();
    assert_eq!(get(&basic("alice", "second")).status, 200, "new password");
    within_a_second("old password", 401, || get(&basic("alice", "first")));

    warden.add_user("newbie", "pw-new", &["admin"]);
    assert_eq!(
        get(&basic("newbie", "pw-new")).status,
        200,
        "user added live"
    );

    let key = warden.create_key("deploy", &["admin"]);
    assert_eq!(get(&bearer(&key)).status, 200, "key created live");
    let id = warden.key_id("deploy");
    warden.cli(&["key", "revoke", &id], None).ok();
    let r = within_a_second("after revoke", 401, || get(&bearer(&key)));
    assert_eq!(r.challenges(), invalid_key(), "after revoke");
    let r = warden.get("/admin/x", &[("X-API-Key", &key)]);
    assert_eq!(r.status, 401, "revoked key in the header");
}

/// A custom API-key header replaces `X-API-Key`; the old name is then just another header.
#[test]
fn api_key_header_name_is_configurable() {
    let config = replace(
        &standard_config(),
        "header = \"X-API-Key\"",
        "header = \"X-Token\"",
    );
    let env = Env::new(&config);
    let key = env.create_key("ci", &[]);
    let warden = env.serve();
    let r = warden.get("/private/x", &[("X-Token", &key)]);
    assert_eq!(r.status, 200, "{r:#?}");
    let r = warden.get("/private/x", &[("X-API-Key", &key)]);
    assert_eq!(
        (r.status, r.challenges()),
        (401, both()),
        "X-API-Key is not read"
    );
    assert_eq!(r.code(), "unauthenticated");
    let r = warden.get(
        "/private/x",
        &[("X-Token", &key), ("Authorization", &bearer(&key))],
    );
    assert_eq!(r.status, 400, "key sent two ways");
}

/// The store is reread, not cached: changes show within a second even under load.
#[test]
fn disable_is_seen_within_a_second() {
    let env = Env::new(&standard_config());
    env.add_user("alice", "pw", &["admin"]);
    let warden = env.serve();
    let auth = basic("alice", "pw");
    assert_eq!(
        warden.get("/admin/x", &[("Authorization", &auth)]).status,
        200
    );
    warden.cli(&["user", "disable", "alice"], None).ok();
    let disabled_at = Instant::now();
    poll_until(Duration::from_secs(1), "disable to take effect", || {
        (warden.get("/admin/x", &[("Authorization", &auth)]).status == 401).then_some(())
    });
    assert!(disabled_at.elapsed() < Duration::from_secs(1));
}
