//! Two `warden serve` replicas sharing PostgreSQL (users, keys, sessions) and Redis (failed
//! attempts, revocations): a session signed in on one is good on the other; a sign-out, a key
//! revoke or a disabled user reaches both within a second even with their caches warm; failed
//! passwords add up across replicas. Once with one Redis, once with a Redis Cluster.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::browser::*;
use common::services::*;
use common::*;

const JSON: (&str, &str) = ("Accept", "application/json");

/// What the CLI and the servers must see within.
const WITHIN: Duration = Duration::from_secs(1);

/// Two replicas on one configuration (alice exists), and what they share.
struct Replicas {
    a: Warden,
    b: Warden,
    _schema: PgSchema,
}

/// A fresh schema, the `[state]` body given, `edit` applied to the config of both.
fn replicas(state_body: &str, edit: impl Fn(String) -> String) -> Replicas {
    let schema = pg_schema();
    let config = edit(shared_config(&schema.url, state_body));
    let env_a = Env::new(&config);
    env_a.add_user("alice", "alice-pw", &["ops", "dev"]);
    let (a, b) = (env_a.serve(), Env::new(&config).serve());
    assert_ne!(a.addr, b.addr);
    Replicas {
        a,
        b,
        _schema: schema,
    }
}

/// Replicas on the machine's Redis, under a prefix of their own.
fn on_redis() -> Replicas {
    replicas(&redis_state(MACHINE_REDIS, &redis_prefix()), |c| c)
}

/// Polls `get` every 10 ms while it answers `from`, until it answers `to`: the answer and how
/// long it took. Any other status, or still `from` after `limit`, fails.
fn until(
    what: &str,
    from: u16,
    to: u16,
    limit: Duration,
    mut get: impl FnMut() -> Response,
) -> (Response, Duration) {
    let start = Instant::now();
    loop {
        let r = get();
        let took = start.elapsed();
        if r.status == to {
            return (r, took);
        }
        assert_eq!(
            r.status, from,
            "{what}: unexpected answer after {took:?}: {r:#?}"
        );
        assert!(took < limit, "{what}: still {from} after {took:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Polls two replicas until both answer `to`: how long each took.
fn until_both(
    what: &str,
    (from, to): (u16, u16),
    replicas: &Replicas,
    get: impl Fn(&Warden) -> Response,
) -> [(Response, Duration); 2] {
    let start = Instant::now();
    let mut done: [Option<(Response, Duration)>; 2] = [None, None];
    while done.iter().any(Option::is_none) {
        for (slot, warden) in done.iter_mut().zip([&replicas.a, &replicas.b]) {
            if slot.is_some() {
                continue;
            }
            let r = get(warden);
            let took = start.elapsed();
            if r.status == to {
                *slot = Some((r, took));
                continue;
            }
            assert_eq!(r.status, from, "{what}: unexpected after {took:?}: {r:#?}");
            assert!(took < WITHIN, "{what}: still {from} after {took:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    done.map(Option::unwrap)
}

fn assert_identity(r: &Response, subject: &str, method: &str, what: &str) {
    assert_eq!(r.status, 200, "{what}: {r:#?}");
    assert_eq!(r.all("x-auth-subject"), [subject], "{what}");
    assert_eq!(r.all("x-auth-method"), [method], "{what}");
    assert!(r.challenges().is_empty(), "{what}: {r:#?}");
}

/// 401 `invalid_token` as problem+json, with both challenges; `code` tells an unknown key
/// (`invalid_token`) from an ended session (`session_ended`).
fn assert_invalid_token(r: &Response, code: &str, what: &str) {
    assert_eq!(r.status, 401, "{what}: {r:#?}");
    let challenges = r.challenges();
    assert_eq!(challenges.len(), 2, "{what}: {r:#?}");
    assert!(
        challenges[0]
            .starts_with(r#"Bearer realm="example", error="invalid_token", error_description=""#),
        "{what}: {challenges:?}"
    );
    assert_eq!(challenges[1], BASIC, "{what}");
    assert_eq!(r.header("content-type"), Some(PROBLEM), "{what}");
    assert_eq!(r.code(), code, "{what}");
}

/// 429 as problem+json with a `Retry-After` in seconds and no challenge.
fn assert_throttled(r: &Response, what: &str) {
    assert_eq!(r.status, 429, "{what}: {r:#?}");
    assert!(r.challenges().is_empty(), "{what}: {r:#?}");
    let retry = r.all("retry-after");
    assert_eq!(retry.len(), 1, "{what}: {r:#?}");
    let seconds: u64 = retry[0]
        .parse()
        .unwrap_or_else(|_| panic!("{what}: {retry:?}"));
    assert!(seconds >= 1, "{what}: Retry-After {seconds}");
    assert_eq!(r.header("content-type"), Some(PROBLEM), "{what}");
    assert_eq!(r.code(), "too_many_attempts", "{what}");
}

#[test]
fn a_session_signed_in_on_one_replica_is_valid_on_the_other() {
    let replicas = on_redis();
    let token = replicas.a.sign_in("alice", "alice-pw");
    let cookie = session_cookie(&token);
    for (name, warden) in [("B", &replicas.b), ("A", &replicas.a)] {
        let r = warden.get("/private/x", &[JSON, ("Cookie", &cookie)]);
        assert_identity(&r, "alice", "session", name);
        assert_eq!(r.all("x-auth-roles"), ["ops,dev"], "{name}");
    }
    // The other replica lists it too: one store.
    let out = replicas.b.cli(&["session", "list"], None).ok();
    assert_eq!(
        out.stdout.lines().filter(|l| l.contains(" alice ")).count(),
        1,
        "{out:#?}"
    );
}

#[test]
fn signing_out_on_one_replica_ends_the_session_on_the_other_within_a_second() {
    let replicas = on_redis();
    let cookie = session_cookie(&replicas.a.sign_in("alice", "alice-pw"));
    let page = replicas.a.form_page(LOGOUT, &[("Cookie", &cookie)]);
    // B has just checked the session: its half-second cache is warm.
    let r = replicas.b.get("/private/x", &[JSON, ("Cookie", &cookie)]);
    assert_identity(&r, "alice", "session", "B before sign-out");
    let r = replicas
        .a
        .post_with_csrf(LOGOUT, &page.csrf, &cookie, &[], &[]);
    assert_eq!(r.status, 303, "{r:#?}");
    assert_eq!(set_cookie(&r, SESSION).value, "", "{r:#?}");
    let (r, took) = until("B after sign-out on A", 200, 401, WITHIN, || {
        replicas.b.get("/private/x", &[JSON, ("Cookie", &cookie)])
    });
    eprintln!("replicas: sign-out on A -> 401 on B after {took:?}");
    assert_invalid_token(&r, "session_ended", "B after sign-out on A");
    let r = replicas.a.get("/private/x", &[JSON, ("Cookie", &cookie)]);
    assert_invalid_token(&r, "session_ended", "A after its own sign-out");
}

#[test]
fn a_revoked_key_is_refused_by_both_replicas_within_a_second() {
    let replicas = on_redis();
    let key = replicas.a.create_key("ci", &["deployer"]);
    let id = replicas.a.key_id("ci");
    let auth = bearer(&key);
    let get = |w: &Warden| w.get("/private/x", &[JSON, ("Authorization", &auth)]);
    // Both accept it right before, so both remember the success.
    let warmed = Instant::now();
    for (name, warden) in [("A", &replicas.a), ("B", &replicas.b)] {
        assert_identity(&get(warden), "ci", "api_key", name);
    }
    let out = replicas.a.cli(&["key", "revoke", &id], None).ok();
    let cli_took = warmed.elapsed();
    assert_eq!(out.stdout.trim(), format!("revoked key {id}"));
    assert!(
        !out.stderr.contains("warning"),
        "the revocation was not published: {out:#?}"
    );
    let [(ra, ta), (rb, tb)] = until_both("after key revoke", (200, 401), &replicas, get);
    eprintln!(
        "replicas: key revoke (CLI ran {cli_took:?} after the warm-up) -> 401 on A after {ta:?}, on B after {tb:?}"
    );
    assert_invalid_token(&ra, "invalid_token", "A after revoke");
    assert_invalid_token(&rb, "invalid_token", "B after revoke");
    let out = replicas.b.cli(&["key", "list"], None).ok();
    assert!(out.stdout.contains(" revoked "), "{out:#?}");
}

#[test]
fn a_disabled_user_is_refused_by_both_replicas_within_a_second() {
    let replicas = on_redis();
    let auth = basic("alice", "alice-pw");
    let get = |w: &Warden| w.get("/private/x", &[JSON, ("Authorization", &auth)]);
    for (name, warden) in [("A", &replicas.a), ("B", &replicas.b)] {
        assert_identity(&get(warden), "alice", "basic", name);
    }
    replicas.b.cli(&["user", "disable", "alice"], None).ok();
    let [(ra, ta), (rb, tb)] = until_both("after user disable", (200, 401), &replicas, get);
    eprintln!("replicas: user disable -> 401 on A after {ta:?}, on B after {tb:?}");
    for (name, r) in [("A", &ra), ("B", &rb)] {
        assert_eq!(r.challenges(), [BEARER, BASIC], "{name}: {r:#?}");
        assert_eq!(r.code(), "invalid_credentials", "{name}");
    }
    let out = replicas.a.cli(&["user", "list"], None).ok();
    assert!(out.stdout.contains("disabled"), "{out:#?}");
}

/// The client of the failure tests, forwarded by the trusted proxy 127.0.0.1, so failures of
/// other steps (from 127.0.0.1 itself) are not counted with them.
const CLIENT: (&str, &str) = ("X-Forwarded-For", "198.51.100.20");

/// 20 failures from one address, alternating between the replicas under 20 different names
/// (the per-name limit of 10 never trips): the 21st attempt is 429 on both.
fn failures_add_up_across(replicas: &Replicas) {
    room_in_window(3600, Duration::from_secs(20));
    for n in 0..20 {
        let warden = if n % 2 == 0 { &replicas.a } else { &replicas.b };
        let auth = basic(&format!("ghost-{n}"), "wrong");
        let r = warden.get("/private/x", &[JSON, CLIENT, ("Authorization", &auth)]);
        assert_eq!(r.status, 401, "failure {}: {r:#?}", n + 1);
        assert_eq!(r.challenges(), [BEARER, BASIC], "failure {}", n + 1);
    }
    let alice = basic("alice", "alice-pw");
    for (name, warden) in [("A", &replicas.a), ("B", &replicas.b)] {
        let r = warden.get("/private/x", &[JSON, CLIENT, ("Authorization", &alice)]);
        assert_throttled(
            &r,
            &format!("the right password on {name} after 20 failures"),
        );
    }
    // Another address is not blocked.
    let r = replicas
        .b
        .get("/private/x", &[JSON, ("Authorization", &alice)]);
    assert_identity(&r, "alice", "basic", "alice from another address");
}

/// One hour windows, so the 20 failures never straddle two.
fn hour_windows(config: String) -> String {
    format!("{config}[limits]\nwindow_seconds = 3600\n")
}

#[test]
fn failed_passwords_on_both_replicas_add_up_to_429_on_both() {
    let state = redis_state(MACHINE_REDIS, &redis_prefix());
    let replicas = replicas(&state, hour_windows);
    failures_add_up_across(&replicas);
}

#[test]
fn on_a_redis_cluster_failures_add_up_and_revocations_reach_both() {
    let cluster = RedisCluster::start();
    let urls: Vec<String> = cluster.urls().iter().map(|u| format!("\"{u}\"")).collect();
    let state = format!(
        "urls = [{}]\nkey_prefix = \"{}\"\n",
        urls.join(", "),
        redis_prefix()
    );
    let replicas = replicas(&state, hour_windows);
    for warden in [&replicas.a, &replicas.b] {
        let r = warden.get("/.warden/health", &[]);
        assert_eq!(r.status, 200, "{r:#?}");
        assert_eq!(
            r.body,
            "ok\nstore (postgresql): up\nstate (redis cluster): up\n"
        );
    }
    let key = replicas.a.create_key("ci", &[]);
    let id = replicas.a.key_id("ci");
    let auth = bearer(&key);
    let get = |w: &Warden| w.get("/private/x", &[JSON, ("Authorization", &auth)]);
    for (name, warden) in [("A", &replicas.a), ("B", &replicas.b)] {
        assert_identity(&get(warden), "ci", "api_key", name);
    }
    let out = replicas.b.cli(&["key", "revoke", &id], None).ok();
    assert!(
        !out.stderr.contains("warning"),
        "the revocation was not published: {out:#?}"
    );
    let [(ra, ta), (rb, tb)] = until_both("cluster: after key revoke", (200, 401), &replicas, get);
    eprintln!("replicas (cluster): key revoke -> 401 on A after {ta:?}, on B after {tb:?}");
    assert_invalid_token(&ra, "invalid_token", "A after revoke");
    assert_invalid_token(&rb, "invalid_token", "B after revoke");
    failures_add_up_across(&replicas);
}
