//! The state suite against a standalone Redis (the machine's, `WARDEN_TEST_REDIS_URL`),
//! revocation fan-out, and what only Redis has: key layout, expiry, URL checks.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
#[macro_use]
mod state;

use std::time::{Duration, Instant};

use common::redis::{RedisServer, raw_command};
use redis::AsyncCommands as _;
use state::revocations;
use state::{Redis, unique_prefix};
use warden_store::{AttemptKey, AttemptLimits, AttemptState, RedisSpec, RedisState, StoreError};

attempt_cases!(Redis::standalone());

#[tokio::test]
async fn published_events_reach_another_replica() {
    revocations::published_events_reach_another_replica(&Redis::standalone()).await;
}

#[tokio::test]
async fn a_listener_starts_with_all() {
    revocations::a_listener_starts_with_all(&Redis::standalone()).await;
}

#[tokio::test]
async fn another_prefix_hears_nothing() {
    revocations::another_prefix_hears_nothing(&Redis::standalone()).await;
}

#[tokio::test]
async fn ping_answers() {
    let state = Redis::standalone().open(&unique_prefix(), AttemptLimits::default());
    state.ping().await.unwrap();
}

/// A plain connection to the machine's Redis, to look behind the state's back.
async fn raw() -> redis::aio::MultiplexedConnection {
    let client = redis::Client::open(state::machine_redis_url()).unwrap();
    client.get_multiplexed_async_connection().await.unwrap()
}

fn sha256_hex(text: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, text.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn counters_are_tagged_hashes_that_expire_when_they_stop_mattering() {
    let prefix = unique_prefix();
    let limits = AttemptLimits {
        per_ip: 3,
        per_user: 2,
        window_ms: 10_000,
        max_backoff_ms: 35_000,
    };
    let state = Redis::standalone().open(&prefix, limits);
    let now = warden_store::clock::now_unix() as u64 * 1_000 + 123;
    let keys = [
        AttemptKey::Ip("192.0.2.1".parse().unwrap()),
        AttemptKey::User("alice".into()),
    ];
    for _ in 0..2 {
        state.record_failure(&keys, now).await.unwrap();
    }
    let mut conn = raw().await;
    let user_key = format!("{{{prefix}}}att:user:{}", sha256_hex("alice"));
    let ip_key = format!("{{{prefix}}}att:ip:192.0.2.1");
    let window = now / 10_000;
    let blocked_until = (window + 1) * 10_000;
    let fields: Vec<Option<u64>> = conn
        .hmget(
            &user_key,
            &["window", "failures", "streak", "blocked_until"],
        )
        .await
        .unwrap();
    assert_eq!(
        fields,
        [Some(window), Some(2), Some(1), Some(blocked_until)],
        "exact integers, no 1.7e+12"
    );
    let ip_fields: Vec<Option<u64>> = conn
        .hmget(&ip_key, &["failures", "streak", "blocked_until"])
        .await
        .unwrap();
    assert_eq!(ip_fields, [Some(2), Some(0), Some(0)]);
    // Blocked: kept for the rest of the block plus one window, for the streak.
    let ttl: i64 = conn.pttl(&user_key).await.unwrap();
    let want = (blocked_until - now + 10_000) as i64;
    assert!((want - 2_000..=want).contains(&ttl), "{ttl} vs {want}");
    // Not blocked: kept for one window.
    let ttl: i64 = conn.pttl(&ip_key).await.unwrap();
    assert!((8_000..=10_000).contains(&ttl), "{ttl}");
    // Nothing else was written under the prefix.
    let all: Vec<String> = conn.keys(format!("{{{prefix}}}*")).await.unwrap();
    assert_eq!(all.len(), 2, "{all:?}");
}

#[tokio::test]
async fn each_call_is_one_command() {
    // A private server, so no other test's commands are counted.
    let server = RedisServer::start();
    let state = RedisState::new(RedisSpec {
        urls: vec![server.url()],
        ..Redis::standalone().spec(&unique_prefix(), AttemptLimits::default())
    })
    .unwrap();
    let keys = [
        AttemptKey::Ip("192.0.2.9".parse().unwrap()),
        AttemptKey::User("zoe".into()),
    ];
    // The first calls load the scripts (EVALSHA, NOSCRIPT, SCRIPT LOAD, EVALSHA).
    state.record_failure(&keys, 0).await.unwrap();
    state.retry_after(&keys, 0).await.unwrap();
    let before = command_calls(server.port());
    for _ in 0..10 {
        state.record_failure(&keys, 0).await.unwrap();
        state.retry_after(&keys, 0).await.unwrap();
    }
    let after = command_calls(server.port());
    let mut delta: Vec<(String, u64)> = after
        .into_iter()
        .filter(|(name, _)| name != "info")
        .map(|(name, calls)| {
            let was = before
                .iter()
                .find(|(n, _)| *n == name)
                .map_or(0, |(_, c)| *c);
            (name, calls - was)
        })
        .filter(|(_, calls)| *calls > 0)
        .collect();
    delta.sort();
    // Commands run by a script are counted too: per key, HMGET + HSET + PEXPIRE to record
    // and HGET to check. One EVALSHA per call and nothing else came from the client.
    let want = [
        ("evalsha", 20),
        ("hget", 20),
        ("hmget", 20),
        ("hset", 20),
        ("pexpire", 20),
    ];
    let want: Vec<(String, u64)> = want.iter().map(|(n, c)| ((*n).to_owned(), *c)).collect();
    assert_eq!(delta, want);
}

/// Calls per command name so far, from `INFO commandstats`.
fn command_calls(port: u16) -> Vec<(String, u64)> {
    let info = raw_command(port, "INFO commandstats").unwrap();
    info.lines()
        .filter_map(|line| {
            let (name, stats) = line.strip_prefix("cmdstat_")?.split_once(':')?;
            let calls = stats.strip_prefix("calls=")?.split(',').next()?;
            Some((name.to_owned(), calls.parse().ok()?))
        })
        .collect()
}

fn spec(urls: &[&str], cluster: bool) -> RedisSpec {
    RedisSpec {
        urls: urls.iter().map(|u| (*u).to_owned()).collect(),
        cluster,
        prefix: "p:".into(),
        timeout: Duration::from_millis(500),
        limits: AttemptLimits::default(),
    }
}

fn url_error(spec: RedisSpec) -> String {
    match RedisState::new(spec) {
        Err(e @ StoreError::Url(_)) => e.to_string(),
        Err(e) => panic!("not a url error: {e:?}"),
        Ok(_) => panic!("accepted"),
    }
}

#[test]
fn bad_urls_are_refused_without_their_password() {
    let cases: [(&[&str], bool); 7] = [
        (&["http://u:s3cret@h:6379"], false),
        (&["redis://:s3cret@h/not-a-db"], false),
        (&["rediss://u:s3cret@h/#insecure"], false),
        (&["not a url :s3cret@"], false),
        (&[], false),
        (&["redis://:s3cret@a", "redis://:s3cret@b"], false),
        (&["redis://:s3cret@a", "redis://:other@b"], true),
    ];
    for (urls, cluster) in cases {
        let msg = url_error(spec(urls, cluster));
        assert!(msg.starts_with("invalid url: "), "{msg}");
        assert!(!msg.contains("s3cret"), "{msg}");
    }
    let empty_prefix = RedisSpec {
        prefix: String::new(),
        ..spec(&["redis://a:1", "redis://b:2"], true)
    };
    assert!(url_error(empty_prefix).contains("prefix"));
}

#[test]
fn debug_hides_passwords() {
    let spec = spec(&["rediss://warden:s3cret@cache.example:6380/0"], false);
    let shown = format!("{spec:?}");
    assert!(
        shown.contains("rediss://warden:***@cache.example:6380/0"),
        "{shown}"
    );
    let state = RedisState::new(spec).unwrap();
    let shown = format!("{state:?}");
    assert!(!shown.contains("s3cret"), "{shown}");
}

#[test]
fn new_does_no_io() {
    // No runtime, nothing listening, a TLS URL: preparing still succeeds.
    for urls in [
        &["redis://127.0.0.1:1/0"][..],
        &["rediss://:pw@cache.example:6380"],
        &["redis://127.0.0.1:1", "redis://127.0.0.1:2"],
    ] {
        RedisState::new(spec(urls, urls.len() > 1)).unwrap();
    }
}

#[tokio::test]
async fn tls_to_a_plain_server_fails_fast_without_panicking() {
    // The machine's Redis speaks plain RESP, so the TLS handshake must fail; that it gets
    // that far proves rustls (aws-lc-rs) is wired up.
    let url = state::machine_redis_url().replacen("redis://", "rediss://", 1);
    let state = RedisState::new(spec(&[&url], false)).unwrap();
    let started = Instant::now();
    let err = state.ping().await.unwrap_err();
    assert!(started.elapsed() < Duration::from_millis(1_500), "{err}");
    assert!(err.is_unavailable(), "{err}");
}
