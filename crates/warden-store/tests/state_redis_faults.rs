//! Redis failing under warden: a private `redis-server` killed and restarted on the same
//! port, paused, absent at start-up, and a server that accepts connections and never answers.
//! Calls must fail fast with a transient error, and everything must recover by itself.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod state;

use std::future::Future;
use std::time::{Duration, Instant};

use common::redis::{RedisServer, SilentServer, free_port};
use state::revocations::{DELIVERY, Heard};
use state::unique_prefix;
use warden_store::StoreError;
use warden_store::{AttemptKey, AttemptLimits, AttemptState, RedisSpec, RedisState, Revocation};

const TIMEOUT: Duration = Duration::from_millis(500);
/// The most a failing call may take: its timeout plus slack for a loaded machine.
const BOUND: Duration = Duration::from_millis(1_500);
/// How soon after a restart calls must succeed again.
const RECOVERY: Duration = Duration::from_secs(5);

fn open(url: &str, prefix: &str) -> RedisState {
    RedisState::new(RedisSpec {
        urls: vec![url.to_owned()],
        cluster: false,
        prefix: prefix.to_owned(),
        timeout: TIMEOUT,
        limits: AttemptLimits::default(),
    })
    .unwrap()
}

fn alice() -> &'static [AttemptKey] {
    static ALICE: std::sync::LazyLock<[AttemptKey; 1]> =
        std::sync::LazyLock::new(|| [AttemptKey::User("alice".into())]);
    &*ALICE
}

/// Runs a call that must fail, returning its error and checking it came within `BOUND`.
async fn fails<T: std::fmt::Debug>(
    what: &str,
    call: impl Future<Output = Result<T, StoreError>>,
) -> StoreError {
    let started = Instant::now();
    let err = call.await.expect_err(what);
    let took = started.elapsed();
    assert!(took < BOUND, "{what} took {took:?}: {err}");
    err
}

/// Calls `attempt` until it succeeds, returning how long that took; panics after `RECOVERY`.
async fn recovers<F, Fut>(what: &str, mut attempt: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), StoreError>>,
{
    let started = Instant::now();
    loop {
        match attempt().await {
            Ok(()) => return started.elapsed(),
            Err(e) => assert!(e.is_transient(), "{what}: {e}"),
        }
        assert!(started.elapsed() < RECOVERY, "{what} did not recover");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_fails_fast_and_everything_recovers_after_a_restart() {
    let mut server = RedisServer::start();
    let prefix = unique_prefix();
    let (state, publisher) = (open(&server.url(), &prefix), open(&server.url(), &prefix));
    let mut heard = Heard::start(&state);
    heard.subscribed(Duration::from_secs(5)).await;
    state.record_failure(alice(), 0).await.unwrap();
    publisher.ping().await.unwrap();

    server.kill();
    for _ in 0..3 {
        let e = fails("ping", state.ping()).await;
        assert!(e.is_transient() && e.is_unavailable(), "{e}");
        let e = fails("record_failure", state.record_failure(alice(), 0)).await;
        assert!(e.is_transient(), "{e}");
        let e = fails("retry_after", state.retry_after(alice(), 0)).await;
        assert!(e.is_transient(), "{e}");
        let e = fails("publish", publisher.publish(&Revocation::All)).await;
        assert!(e.is_transient(), "{e}");
    }

    server.restart();
    let restarted = Instant::now();
    let took = recovers("record_failure", || state.record_failure(alice(), 0)).await;
    eprintln!("record_failure recovered {took:?} after the restart");
    recovers("publish", || publisher.publish(&Revocation::All)).await;
    // The listener reconnects by itself and starts over with `All`, then hears new events.
    let first = heard.next(RECOVERY).await;
    assert_eq!(
        first,
        Some(Revocation::All),
        "the first event after the restart"
    );
    eprintln!(
        "listener resubscribed {:?} after the restart",
        restarted.elapsed()
    );
    assert!(restarted.elapsed() < RECOVERY);
    let event = Revocation::Session("0a1b2c3d4e5f".into());
    // A publish that raced the resubscription may be lost (the `All` covers it): publish
    // until one arrives, which proves events flow again.
    for _ in 0..10 {
        publisher.publish(&event).await.unwrap();
        match heard.next(DELIVERY).await {
            Some(got) if got == event => return,
            Some(Revocation::All) | None => {}
            Some(other) => panic!("unexpected {other:?}"),
        }
    }
    panic!("no event after the restart");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_absent_at_start_up_is_used_once_it_appears() {
    let port = free_port();
    let state = open(&format!("redis://127.0.0.1:{port}/0"), &unique_prefix());
    let mut heard = Heard::start(&state);
    let e = fails("ping", state.ping()).await;
    assert!(e.is_transient(), "{e}");
    let e = fails("record_failure", state.record_failure(alice(), 0)).await;
    assert!(e.is_transient(), "{e}");
    assert_eq!(heard.next(Duration::from_millis(600)).await, None);

    let _server = RedisServer::start_with(port, Vec::new());
    let took = recovers("ping", || state.ping()).await;
    eprintln!("first connect {took:?} after the server appeared");
    heard.subscribed(RECOVERY).await;
    state.record_failure(alice(), 0).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_answers_costs_one_timeout_per_call() {
    let silent = SilentServer::start();
    let state = open(&silent.url(), &unique_prefix());
    let mut heard = Heard::start(&state);
    let timeout = StoreError::Timeout("redis", 500).to_string();
    for _ in 0..2 {
        let e = fails("ping", state.ping()).await;
        assert!(matches!(e, StoreError::Timeout("redis", 500)), "{e}");
        assert!(e.is_transient());
        let e = fails("record_failure", state.record_failure(alice(), 0)).await;
        assert_eq!(e.to_string(), timeout);
        let e = fails("retry_after", state.retry_after(alice(), 0)).await;
        assert_eq!(e.to_string(), timeout);
        let e = fails("publish", state.publish(&Revocation::All)).await;
        assert_eq!(e.to_string(), timeout);
    }
    // The listener never gets a subscription confirmed, so it reports nothing.
    assert_eq!(heard.next(Duration::from_secs(1)).await, None);
    assert!(silent.accepted() >= 2, "{}", silent.accepted());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_server_times_out_then_answers_again() {
    let server = RedisServer::start();
    let prefix = unique_prefix();
    let (state, publisher) = (open(&server.url(), &prefix), open(&server.url(), &prefix));
    let mut heard = Heard::start(&state);
    heard.subscribed(Duration::from_secs(5)).await;
    state.ping().await.unwrap();
    publisher.ping().await.unwrap();

    server.pause();
    let e = fails("ping", state.ping()).await;
    assert!(matches!(e, StoreError::Timeout("redis", 500)), "{e}");
    let e = fails("record_failure", state.record_failure(alice(), 0)).await;
    assert!(e.is_transient(), "{e}");
    server.resume();

    recovers("ping", || state.ping()).await;
    recovers("record_failure", || state.record_failure(alice(), 0)).await;
    let event = Revocation::Subject("alice".into());
    for _ in 0..10 {
        recovers("publish", || publisher.publish(&event)).await;
        match heard.next(DELIVERY).await {
            Some(got) if got == event => return,
            Some(Revocation::All) | None => {}
            Some(other) => panic!("unexpected {other:?}"),
        }
    }
    panic!("no event after the pause");
}
