//! Brute force: failed password checks counted per client address and per user name (existing
//! or not), failed API keys per address; past a limit, 429 with `Retry-After` before any
//! hashing, for Basic, the login form and the nginx flavour alike.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::browser::*;
use common::*;

/// The standard config with these limits; alice and bob exist.
fn server(per_ip: u32, per_user: u32, window: u64) -> Warden {
    let limits = format!(
        "[limits]\nfailures_per_ip = {per_ip}\nfailures_per_user = {per_user}\n\
         window_seconds = {window}\n[network]\n"
    );
    let env = Env::new(&replace(&standard_config(), "[network]\n", &limits));
    env.add_user("alice", "alice-pw", &["admin"]);
    env.add_user("bob", "bob-pw", &[]);
    env.serve()
}

fn get_basic(warden: &Warden, user: &str, password: &str) -> Response {
    let auth = basic(user, password);
    warden.get("/private/x", &[("Authorization", &auth)])
}

fn assert_failed(r: &Response, what: &str) {
    assert_eq!(r.status, 401, "{what}: {r:#?}");
    assert_eq!(r.challenges(), [BEARER, BASIC], "{what}");
}

/// 429 as problem+json: `Retry-After` within the window, no challenge.
fn assert_throttled(r: &Response, window: u64, what: &str) -> u64 {
    assert_eq!(r.status, 429, "{what}: {r:#?}");
    assert!(r.challenges().is_empty(), "{what}: {r:#?}");
    assert_eq!(r.header("content-type"), Some(PROBLEM), "{what}");
    assert_eq!(r.code(), "too_many_attempts", "{what}");
    assert_eq!(r.json()["status"], 429);
    assert_eq!(r.all("cache-control"), ["no-store"]);
    retry_after(r, window, what)
}

fn retry_after(r: &Response, window: u64, what: &str) -> u64 {
    let values = r.all("retry-after");
    assert_eq!(values.len(), 1, "{what}: {r:#?}");
    let seconds: u64 = values[0]
        .parse()
        .unwrap_or_else(|_| panic!("{what}: Retry-After {:?}", values[0]));
    assert!(
        (1..=window).contains(&seconds),
        "{what}: Retry-After {seconds}"
    );
    seconds
}

#[test]
fn a_user_is_blocked_after_the_limit_and_let_in_again_after_the_window() {
    let window = 2;
    let warden = server(100, 3, window);
    room_in_window(window, Duration::from_millis(1500));
    for n in 1..=3 {
        assert_failed(
            &get_basic(&warden, "alice", "wrong"),
            &format!("failure {n}"),
        );
    }
    let blocked_at = Instant::now();
    let r = get_basic(&warden, "alice", "alice-pw");
    assert_throttled(&r, window, "the right password while blocked");
    // Another name from the same address is not blocked.
    let r = get_basic(&warden, "bob", "bob-pw");
    assert_eq!(r.status, 200, "{r:#?}");
    // Once the block ends, the right password works (polling does not extend the block).
    let r = poll_until(Duration::from_secs(5), "the block to end", || {
        let r = get_basic(&warden, "alice", "alice-pw");
        if r.status == 429 {
            retry_after(&r, window, "while polling");
            return None;
        }
        Some(r)
    });
    assert_eq!(r.status, 200, "{r:#?}");
    assert_eq!(r.all("x-auth-subject"), ["alice"]);
    assert!(
        blocked_at.elapsed() <= Duration::from_millis(window * 1000 + 1000),
        "blocked for {:?}",
        blocked_at.elapsed()
    );
}

/// Throttling reveals nothing: a name that does not exist is counted and blocked exactly like
/// one that does.
#[test]
fn unknown_names_are_throttled_like_existing_ones() {
    let window = 3600;
    let warden = server(100, 3, window);
    room_in_window(window, Duration::from_secs(15));
    let mut answers = Vec::new();
    for user in ["alice", "ghost"] {
        for n in 1..=3 {
            let r = get_basic(&warden, user, "wrong");
            assert_failed(&r, &format!("{user} failure {n}"));
        }
        let r = get_basic(
            &warden,
            user,
            if user == "alice" { "alice-pw" } else { "x" },
        );
        assert_throttled(&r, window, user);
        answers.push(r);
    }
    let strip = |r: &Response| {
        let mut h = stable_headers(r);
        h.retain(|(n, _)| n != "retry-after");
        h
    };
    assert_eq!(strip(&answers[0]), strip(&answers[1]));
    assert_eq!(stable_body(&answers[0]), stable_body(&answers[1]));
    assert_eq!(get_basic(&warden, "bob", "bob-pw").status, 200);
}

/// Past the per-address limit every name is blocked from that address, but not from another
/// client behind the trusted proxy.
#[test]
fn an_address_is_blocked_after_the_limit_whatever_the_name() {
    let window = 3600;
    let warden = server(4, 100, window);
    room_in_window(window, Duration::from_secs(15));
    for user in ["u1", "u2", "alice", "u4"] {
        assert_failed(&get_basic(&warden, user, "wrong"), user);
    }
    for (user, password) in [("alice", "alice-pw"), ("bob", "bob-pw"), ("new", "x")] {
        let r = get_basic(&warden, user, password);
        assert_throttled(&r, window, user);
    }
    let auth = basic("bob", "bob-pw");
    let r = warden.get(
        "/private/x",
        &[
            ("Authorization", &auth),
            ("X-Forwarded-For", "198.51.100.7"),
        ],
    );
    assert_eq!(r.status, 200, "another client: {r:#?}");
}

#[test]
fn failed_api_keys_are_counted_per_address() {
    let window = 3600;
    let warden = server(3, 100, window);
    let key = warden.create_key("ci", &["deployer"]);
    room_in_window(window, Duration::from_secs(15));
    let bogus = bearer("wdn_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    for n in 1..=2 {
        let r = warden.get("/private/x", &[("Authorization", &bogus)]);
        assert_eq!(r.status, 401, "failure {n}: {r:#?}");
        assert_eq!(r.code(), "invalid_token");
    }
    let r = warden.get("/private/x", &[("X-API-Key", "wdn_unknown")]);
    assert_eq!(r.status, 401, "failure 3: {r:#?}");
    let r = warden.get("/private/x", &[("Authorization", &bearer(&key))]);
    assert_throttled(&r, window, "the right key while blocked");
    let r = warden.get("/private/x", &[("X-API-Key", &key)]);
    assert_throttled(&r, window, "the right key in the header while blocked");
}

#[test]
fn the_login_form_is_throttled_the_same_way() {
    let window = 3600;
    let warden = server(100, 3, window);
    room_in_window(window, Duration::from_secs(15));
    let csrf = warden.form_page(LOGIN, &[]).csrf;
    let try_password = |password: &str| {
        let fields = [("rd", "/"), ("username", "alice"), ("password", password)];
        warden.post_login(&csrf, "", &[], &fields)
    };
    for n in 1..=3 {
        let r = try_password("wrong");
        assert_eq!(r.status, 200, "failure {n}: {r:#?}");
        assert!(r.body.contains(WRONG), "{}", r.body);
    }
    let r = try_password("alice-pw");
    assert_eq!(r.status, 429, "{r:#?}");
    assert_eq!(r.header("content-type"), Some(HTML));
    assert_eq!(r.all("cache-control"), ["no-store"]);
    assert!(r.challenges().is_empty());
    retry_after(&r, window, "login form");
    assert!(!sets_cookie(&r, SESSION), "{r:#?}");
    assert!(!sets_cookie(&r, MARKER), "{r:#?}");
    // The form and Basic share the counters.
    assert_throttled(&get_basic(&warden, "alice", "alice-pw"), window, "basic");
}

#[test]
fn basic_failures_block_the_login_form_too() {
    let window = 3600;
    let warden = server(100, 3, window);
    room_in_window(window, Duration::from_secs(15));
    for n in 1..=3 {
        assert_failed(&get_basic(&warden, "alice", "nope"), &format!("{n}"));
    }
    let csrf = warden.form_page(LOGIN, &[]).csrf;
    let fields = [("rd", "/"), ("username", "alice"), ("password", "alice-pw")];
    let r = warden.post_login(&csrf, "", &[], &fields);
    assert_eq!(r.status, 429, "{r:#?}");
    retry_after(&r, window, "login form");
}

/// nginx turns a 429 into a 500: the nginx flavour answers 403 and the real status in a header.
#[test]
fn the_nginx_flavour_maps_429_to_403() {
    let window = 3600;
    let warden = server(100, 3, window);
    room_in_window(window, Duration::from_secs(15));
    for n in 1..=3 {
        assert_failed(&get_basic(&warden, "alice", "nope"), &format!("{n}"));
    }
    let auth = basic("alice", "alice-pw");
    let r = warden.get(
        "/.warden/nginx",
        &[("X-Original-URI", "/private/x"), ("Authorization", &auth)],
    );
    assert_eq!(r.status, 403, "{r:#?}");
    assert_eq!(r.all("x-warden-status"), ["429"]);
    assert!(r.challenges().is_empty(), "{r:#?}");
}
