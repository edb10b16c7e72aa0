//! Opaque bearer tokens checked at a real authorization server (npm `oidc-provider`, RFC 7662
//! introspection): active tokens let in with their identity, inactive ones 401
//! `invalid_token`, an authorization server that cannot answer 503 (never 401), positive
//! answers cached but never past `exp`, concurrent checks sharing one call, and failed tokens
//! throttled per client before any call.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod introspection_harness;

use std::sync::Barrier;
use std::time::{Duration, Instant};

use common::op::Fault;
use common::*;
use introspection_harness::*;

#[test]
fn an_active_token_is_let_in_with_its_identity_and_scopes_are_enforced() {
    let op = provider(300);
    let warden = warden(&op, &Settings::default());
    let read = token(&op, "api:read", API);
    assert_allowed(&get(&warden, "/api/read/x", &read), "api:read", "active");
    assert_eq!(calls(&op), (1, 0));
    let r = get(&warden, "/api/write/x", &read);
    assert_needs_write(&r, "authenticated, missing api:write");
    assert_eq!(
        calls(&op),
        (1, 0),
        "the second use is answered from the cache"
    );
    let both = token(&op, "api:read api:write", API);
    let r = get(&warden, "/api/write/x", &both);
    assert_allowed(&r, "api:read api:write", "both scopes");
    let r = warden.get("/private/x", &[]);
    assert_eq!((r.status, r.challenges()), (401, vec![BEARER.to_owned()]));
}

#[test]
fn garbage_revoked_and_foreign_tokens_are_invalid_token() {
    let op = provider(300);
    let fresh = Settings {
        cache_seconds: 0,
        ..Settings::default()
    };
    let warden = warden(&op, &fresh);
    assert_invalid(&get(&warden, "/private/x", "not-a-token"), "garbage");
    // Without `[authn.jwt]`, a JWT-shaped value is the authorization server's to judge.
    assert_invalid(
        &get(&warden, "/private/x", "abc.def.ghi"),
        "JWT-shaped garbage",
    );
    assert_eq!(calls(&op), (2, 0));
    let key = "wdn_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    assert_invalid(&get(&warden, "/private/x", key), "a warden key");
    assert_eq!(calls(&op), (2, 0), "a wdn_ key is never sent out");
    let r = warden.get("/private/x", &[("Authorization", "Bearer a b")]);
    assert_eq!(
        (r.status, r.challenges()),
        (400, vec![BEARER_BAD_REQUEST.to_owned()])
    );
    let foreign = token(&op, "api:read", OTHER);
    assert_eq!(op.introspect(RS, &foreign)["active"], true);
    assert_invalid(
        &get(&warden, "/private/x", &foreign),
        "active, another audience",
    );
    let t = token(&op, "api:read", API);
    assert_allowed(
        &get(&warden, "/private/x", &t),
        "api:read",
        "before revocation",
    );
    let revoked = op.post_form("/token/revocation", Some(APP), &[("token", &t)]);
    assert_eq!(revoked.status, 200, "{revoked:?}");
    assert_invalid(&get(&warden, "/private/x", &t), "revoked");
}

#[test]
fn an_expired_token_is_never_answered_from_the_cache() {
    let op = provider(2);
    let warden = warden(&op, &Settings::default());
    let t = token(&op, "api:read", API);
    let exp = op.introspect(RS, &t)["exp"].as_u64().unwrap();
    op.reset_stats();
    assert_allowed(&get(&warden, "/api/read/x", &t), "api:read", "fresh");
    assert_allowed(&get(&warden, "/api/read/x", &t), "api:read", "cached");
    assert_eq!(calls(&op), (1, 0));
    wait_past(exp);
    assert_invalid(&get(&warden, "/api/read/x", &t), "expired");
    assert_eq!(
        calls(&op),
        (2, 0),
        "asked again once exp passed, although cache_seconds = 60"
    );
    assert_invalid(&get(&warden, "/api/read/x", &t), "expired, again");
    assert_eq!(calls(&op), (3, 0), "an inactive answer is not remembered");
}

#[test]
fn a_positive_answer_is_remembered_for_cache_seconds() {
    let op = provider(300);
    let short = Settings {
        cache_seconds: 1,
        ..Settings::default()
    };
    let warden = warden(&op, &short);
    let t = token(&op, "api:read", API);
    assert_allowed(&get(&warden, "/private/x", &t), "api:read", "first");
    assert_allowed(&get(&warden, "/private/x", &t), "api:read", "cached");
    assert_eq!(calls(&op), (1, 0));
    std::thread::sleep(Duration::from_millis(1100));
    assert_allowed(
        &get(&warden, "/private/x", &t),
        "api:read",
        "after cache_seconds",
    );
    assert_eq!(calls(&op), (2, 0));
}

/// `n` requests with `t`, released together.
fn concurrently(warden: &Warden, t: &str, n: usize) -> Vec<Response> {
    let start = Barrier::new(n);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .map(|_| {
                s.spawn(|| {
                    start.wait();
                    get(warden, "/private/x", t)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

#[test]
fn concurrent_checks_of_one_token_share_one_call_and_a_failure_is_not_kept() {
    let op = provider(300);
    let warden = warden(&op, &Settings::default());
    let t = token(&op, "api:read", API);
    for (i, r) in concurrently(&warden, &t, 20).iter().enumerate() {
        assert_allowed(r, "api:read", &format!("request {i}"));
    }
    assert_eq!(calls(&op), (1, 0), "20 concurrent checks, one call");
    let t = token(&op, "api:read", API);
    op.fault(ENDPOINT, Fault::Status500);
    for (i, r) in concurrently(&warden, &t, 20).iter().enumerate() {
        assert_unavailable(r, &format!("500, request {i}"));
    }
    let (_, failed) = calls(&op);
    eprintln!("20 concurrent checks against a failing endpoint made {failed} call(s)");
    assert!((1..=20).contains(&failed), "{failed}");
    op.fault(ENDPOINT, Fault::Off);
    assert_allowed(
        &get(&warden, "/private/x", &t),
        "api:read",
        "after the fault",
    );
    assert_eq!(calls(&op), (2, failed), "the failure was not remembered");
}

#[test]
fn warden_s_own_credentials_refused_is_503_never_401() {
    let op = provider(300);
    let wrong = Settings {
        secret: "not-the-secret",
        ..Settings::default()
    };
    let warden = warden(&op, &wrong);
    let t = token(&op, "api:read", API);
    assert_unavailable(&get(&warden, "/private/x", &t), "active token");
    // Not judged, so not failed attempts: never a 429 either.
    for i in 0..25 {
        let r = get(&warden, "/private/x", &format!("garbage-{i}"));
        assert_unavailable(&r, &format!("garbage {i}"));
    }
    assert!(warden.log().contains("refused warden's client credentials"));
}

#[test]
fn an_endpoint_down_is_503_and_back_is_200_within_5_s() {
    let mut op = provider(300);
    let warden = warden(&op, &Settings::default());
    let t = token(&op, "api:read", API);
    op.stop();
    let begun = Instant::now();
    assert_unavailable(&get(&warden, "/private/x", &t), "endpoint stopped");
    assert!(
        begun.elapsed() < Duration::from_secs(2),
        "{:?}",
        begun.elapsed()
    );
    op.restart();
    let back = Instant::now();
    // The provider's tokens live in its memory: a new one, as a client would fetch.
    let t = token(&op, "api:read", API);
    let r = poll_until(Duration::from_secs(5), "200 after the restart", || {
        let r = get(&warden, "/private/x", &t);
        (r.status != 503).then_some(r)
    });
    assert_allowed(&r, "api:read", "after the restart");
    eprintln!("200 again {:?} after the restart", back.elapsed());
}

#[test]
fn a_hanging_endpoint_is_503_within_the_timeout_for_every_waiting_check() {
    let op = provider(300);
    let quick = Settings {
        timeout_ms: 500,
        ..Settings::default()
    };
    let warden = warden(&op, &quick);
    let t = token(&op, "api:read", API);
    op.fault(ENDPOINT, Fault::Hang);
    let begun = Instant::now();
    for (i, r) in concurrently(&warden, &t, 20).iter().enumerate() {
        assert_unavailable(r, &format!("hanging endpoint, request {i}"));
    }
    let took = begun.elapsed();
    assert!(took >= Duration::from_millis(450), "{took:?}");
    assert!(took < Duration::from_millis(1500), "{took:?}");
    // Released, the provider finishes (and counts) the calls it held: one for all twenty.
    op.fault(ENDPOINT, Fault::Off);
    poll_until(Duration::from_secs(2), "the held call", || {
        (calls(&op).0 > 0).then_some(())
    });
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(calls(&op), (1, 0), "twenty checks waited on one call");
    assert_allowed(
        &get(&warden, "/private/x", &t),
        "api:read",
        "answering again",
    );
    assert_eq!(calls(&op), (2, 0), "the timeout was not remembered");
}

#[test]
fn failed_tokens_are_throttled_per_client_before_any_call() {
    let op = provider(300);
    let warden = warden(&op, &Settings::default());
    let t = token(&op, "api:read", API);
    browser::room_in_window(60, Duration::from_secs(15));
    for i in 0..20 {
        assert_invalid(&get(&warden, "/private/x", &format!("guess-{i}")), "guess");
    }
    assert_eq!(calls(&op), (20, 0));
    assert_throttled(&get(&warden, "/private/x", "guess-20"), "the 21st guess");
    assert_throttled(&get(&warden, "/private/x", &t), "a good token, same client");
    assert_eq!(calls(&op), (20, 0), "a throttled client makes no call");
    let elsewhere = [
        ("Authorization", bearer(&t)),
        ("X-Forwarded-For", "198.51.100.9".to_owned()),
    ];
    let headers: Vec<(&str, &str)> = elsewhere.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let r = warden.get("/private/x", &headers);
    assert_allowed(&r, "api:read", "another client");
}

#[test]
fn warden_check_and_config_check_know_the_section() {
    let op = provider(300);
    let env = env(&op, &Settings::default());
    let out = env.cli(&["config", "check"], None).ok();
    assert!(out.stdout.contains(": ok (3 rules)"), "{out:#?}");
    assert!(
        out.stdout
            .contains("`authn.introspection`: while the endpoint cannot answer, tokens get 503"),
        "{out:#?}"
    );
    let t = token(&op, "api:read", API);
    let auth = format!("Authorization: Bearer {t}");
    let out = env
        .cli(&["check", "GET", "/api/write/x", "-H", &auth], None)
        .ok();
    assert!(
        out.stdout
            .contains("identity: app via introspection (roles: ; scopes: api:read;"),
        "{out:#?}"
    );
    assert!(out.stdout.contains("status:   403"), "{out:#?}");
    assert!(out.stdout.contains(SCOPE_WRITE), "{out:#?}");
}

#[test]
fn config_check_refuses_an_unreadable_client_secret_without_printing_it() {
    let op = provider(300);
    let env = env(&op, &Settings::default());
    std::fs::remove_file(env.dir.path.join("rs-secret.txt")).unwrap();
    let out = env.cli(&["config", "check"], None);
    assert_eq!(out.status.code(), Some(1), "{out:#?}");
    assert!(
        out.stderr
            .contains("`authn.introspection`: cannot read the client secret: `"),
        "{out:#?}"
    );
    assert!(out.stderr.contains("rs-secret.txt"), "{out:#?}");
    std::fs::write(env.dir.path.join("rs-secret.txt"), "\n").unwrap();
    let out = env.cli(&["config", "check"], None);
    assert_eq!(out.status.code(), Some(1), "{out:#?}");
    assert!(out.stderr.contains("it is empty"), "{out:#?}");
}
