//! Failed-attempt counting in memory: limits, independence of keys, back-off, bounds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use warden_store::{AttemptKey, AttemptLimits, AttemptState, MemoryAttempts};

const WINDOW: u64 = 10_000;

/// 3 per IP, 2 per user, 10 s windows, back-off capped at 35 s.
const LIMITS: AttemptLimits = AttemptLimits {
    per_ip: 3,
    per_user: 2,
    window_ms: WINDOW,
    max_backoff_ms: 35_000,
};

fn ip(last: u8) -> AttemptKey {
    AttemptKey::Ip(IpAddr::V4(Ipv4Addr::new(192, 0, 2, last)))
}

fn user(name: &str) -> AttemptKey {
    AttemptKey::User(name.to_owned())
}

async fn fail(state: &MemoryAttempts, keys: &[AttemptKey], now_ms: u64, times: usize) {
    for _ in 0..times {
        state.record_failure(keys, now_ms).await.unwrap();
    }
}

async fn wait(state: &MemoryAttempts, keys: &[AttemptKey], now_ms: u64) -> Option<u64> {
    let d = state.retry_after(keys, now_ms).await.unwrap();
    d.map(|d| {
        assert_eq!(d.subsec_nanos(), 0, "whole seconds");
        d.as_secs()
    })
}

#[tokio::test]
async fn reaching_the_limit_blocks_until_the_window_ends() {
    let state = MemoryAttempts::new(LIMITS);
    let alice = [user("alice")];
    fail(&state, &alice, 1_000, 1).await;
    assert_eq!(wait(&state, &alice, 1_000).await, None);
    fail(&state, &alice, 2_000, 1).await;
    assert_eq!(wait(&state, &alice, 2_000).await, Some(8));
    assert_eq!(wait(&state, &alice, 2_500).await, Some(8), "rounded up");
    assert_eq!(wait(&state, &alice, 9_001).await, Some(1));
    assert_eq!(wait(&state, &alice, 9_999).await, Some(1), "at least 1 s");
    assert_eq!(wait(&state, &alice, 10_000).await, None);
    // The new window starts from zero: one failure is judged, the second blocks
    // again (this window follows the block, so it carries one window of back-off).
    fail(&state, &alice, 10_000, 1).await;
    assert_eq!(wait(&state, &alice, 10_000).await, None);
    assert_eq!(wait(&state, &[], 10_000).await, None);
    fail(&state, &alice, 10_000, 1).await;
    assert_eq!(wait(&state, &alice, 10_000).await, Some(20));
}

#[tokio::test]
async fn ip_limit_is_separate_and_higher() {
    let state = MemoryAttempts::new(LIMITS);
    let a = [ip(1)];
    fail(&state, &a, 0, 2).await;
    assert_eq!(wait(&state, &a, 0).await, None);
    fail(&state, &a, 0, 1).await;
    assert_eq!(wait(&state, &a, 0).await, Some(10));
    assert_eq!(wait(&state, &[ip(2)], 0).await, None);
    let v6 = AttemptKey::Ip(IpAddr::V6(Ipv6Addr::LOCALHOST));
    assert_eq!(wait(&state, &[v6], 0).await, None);
}

#[tokio::test]
async fn default_limits_judge_ten_per_name_and_twenty_per_ip_then_block() {
    let state = MemoryAttempts::new(AttemptLimits::default());
    // Ten wrong passwords for one name are judged; the tenth blocks, so the
    // eleventh attempt is refused before any hashing.
    let bob = [user("bob")];
    fail(&state, &bob, 0, 9).await;
    assert_eq!(wait(&state, &bob, 0).await, None);
    fail(&state, &bob, 0, 1).await;
    assert_eq!(wait(&state, &bob, 0).await, Some(60));
    let a = [ip(1)];
    fail(&state, &a, 0, 19).await;
    assert_eq!(wait(&state, &a, 0).await, None);
    fail(&state, &a, 0, 1).await;
    assert_eq!(wait(&state, &a, 0).await, Some(60));
}

#[tokio::test]
async fn a_zero_limit_counts_as_one() {
    let state = MemoryAttempts::new(AttemptLimits {
        per_ip: 0,
        per_user: 0,
        ..LIMITS
    });
    assert_eq!(wait(&state, &[user("alice"), ip(1)], 0).await, None);
    fail(&state, &[user("alice")], 0, 1).await;
    assert_eq!(wait(&state, &[user("alice")], 0).await, Some(10));
    fail(&state, &[ip(1)], 5_000, 1).await;
    assert_eq!(wait(&state, &[ip(1)], 5_000).await, Some(5));
}

#[tokio::test]
async fn user_and_ip_are_blocked_independently() {
    let state = MemoryAttempts::new(LIMITS);
    // Two failures: they reach the user limit (2), not the IP limit (3).
    fail(&state, &[ip(1), user("alice")], 0, 2).await;
    assert_eq!(wait(&state, &[user("alice")], 0).await, Some(10));
    assert_eq!(wait(&state, &[ip(1)], 0).await, None);
    assert_eq!(wait(&state, &[ip(1), user("bob")], 0).await, None);
    assert_eq!(wait(&state, &[ip(9), user("alice")], 0).await, Some(10));

    // One IP spraying three names: the IP is blocked, no name is.
    let names = ["u1", "u2", "u3"];
    for (i, name) in names.iter().enumerate() {
        fail(&state, &[ip(2), user(name)], 1_000 * i as u64, 1).await;
    }
    assert_eq!(wait(&state, &[ip(2)], 2_000).await, Some(8));
    for name in names {
        assert_eq!(wait(&state, &[ip(3), user(name)], 2_000).await, None);
    }
}

#[tokio::test]
async fn names_are_opaque_exact_strings() {
    let state = MemoryAttempts::new(LIMITS);
    // The store never looks names up, so a real and an invented name behave alike.
    for name in ["alice", "no-such-user-7f3a"] {
        fail(&state, &[user(name)], 0, 1).await;
        assert_eq!(wait(&state, &[user(name)], 0).await, None);
        fail(&state, &[user(name)], 0, 1).await;
        assert_eq!(wait(&state, &[user(name)], 0).await, Some(10));
    }
    for other in ["Alice", "alice ", " alice", "alic", ""] {
        assert_eq!(wait(&state, &[user(other)], 0).await, None, "{other:?}");
    }
    let long = "x".repeat(8_192);
    fail(&state, &[user(&long)], 0, 2).await;
    assert_eq!(wait(&state, &[user(&long)], 0).await, Some(10));
    assert_eq!(wait(&state, &[user(&long[1..])], 0).await, None);
}

#[tokio::test]
async fn failures_while_blocked_do_not_escalate_the_same_window() {
    let state = MemoryAttempts::new(LIMITS);
    fail(&state, &[user("alice")], 0, 50).await;
    assert_eq!(wait(&state, &[user("alice")], 0).await, Some(10));
    assert_eq!(wait(&state, &[user("alice")], WINDOW).await, None);
}

#[tokio::test]
async fn backoff_doubles_per_consecutive_window_then_caps_then_resets() {
    let state = MemoryAttempts::new(LIMITS);
    let alice = [user("alice")];
    // (time of the burst, seconds blocked from then): each burst lands in the
    // first window the key may try again; the block ends at window end + back-off.
    let bursts = [
        (0, 10),       // window 0: back-off 0, free at 10 s
        (10_000, 20),  // window 1: +10 s, free at 30 s
        (30_000, 30),  // window 3: +20 s, free at 60 s
        (60_000, 45),  // window 6: +40 s capped to 35 s, free at 105 s
        (105_000, 40), // window 10 (mid-window): +35 s, free at 145 s
        (145_000, 40), // window 14: +35 s, free at 185 s
    ];
    for (now, secs) in bursts {
        assert_eq!(wait(&state, &alice, now).await, None, "free at {now}");
        fail(&state, &alice, now, 2).await;
        assert_eq!(
            wait(&state, &alice, now).await,
            Some(secs),
            "burst at {now}"
        );
    }
    assert_eq!(wait(&state, &alice, 184_999).await, Some(1));
    assert_eq!(wait(&state, &alice, 185_000).await, None);
    // Window 18 stays below the limit, which resets the back-off.
    fail(&state, &alice, 185_000, 1).await;
    assert_eq!(wait(&state, &alice, 185_000).await, None);
    fail(&state, &alice, 190_000, 2).await;
    assert_eq!(wait(&state, &alice, 190_000).await, Some(10));
}

#[tokio::test]
async fn a_skipped_window_resets_the_backoff() {
    let state = MemoryAttempts::new(LIMITS);
    let alice = [user("alice")];
    fail(&state, &alice, 0, 2).await;
    fail(&state, &alice, 10_000, 2).await;
    assert_eq!(wait(&state, &alice, 10_000).await, Some(20));
    // Free from 30 s; nothing in window 3; window 4 is a first offence again.
    fail(&state, &alice, 40_000, 2).await;
    assert_eq!(wait(&state, &alice, 40_000).await, Some(10));
}

#[tokio::test]
async fn default_limits_block_for_at_most_a_window_plus_fifteen_minutes() {
    let state = MemoryAttempts::new(AttemptLimits::default());
    let bob = [user("bob")];
    let mut now = 0;
    for _ in 0..20 {
        fail(&state, &bob, now, 10).await;
        let secs = wait(&state, &bob, now).await.unwrap();
        assert!(secs <= 60 + 15 * 60, "{secs}");
        now += secs * 1_000;
    }
    assert_eq!(wait(&state, &bob, now - 1_000).await, Some(1));
    assert_eq!(wait(&state, &bob, now).await, None);
    // Blocks of 60, 120, 180, 300, 540 s, then window + cap (960 s) for the other 15.
    assert_eq!(now, (60 + 120 + 180 + 300 + 540 + 15 * 960) * 1_000);
}

#[tokio::test]
async fn a_flood_of_distinct_keys_stays_within_capacity() {
    // 2^16 divides evenly among any power-of-two number of shards.
    let state = MemoryAttempts::with_capacity(LIMITS, 65_536);
    assert_eq!(state.capacity(), 65_536);
    assert!(state.is_empty());
    for i in 0..200_000u32 {
        let key = AttemptKey::Ip(IpAddr::V6(Ipv6Addr::from(u128::from(i))));
        state.record_failure(&[key], 0).await.unwrap();
    }
    // Every shard received far more keys than it holds, so all are full.
    assert_eq!(state.len(), 65_536);
}

#[tokio::test]
async fn an_uneven_capacity_is_still_a_hard_bound() {
    // 99_999 is odd, so no shard count above 1 divides it.
    let state = MemoryAttempts::with_capacity(LIMITS, 99_999);
    let capacity = state.capacity();
    assert!((99_000..=99_999).contains(&capacity), "{capacity}");
    for i in 0..200_000u32 {
        let key = user(&format!("user{i}"));
        state.record_failure(&[key], 0).await.unwrap();
    }
    assert_eq!(state.len(), capacity);

    let default = MemoryAttempts::new(LIMITS).capacity();
    assert!((99_000..=100_000).contains(&default), "{default}");
    let small = MemoryAttempts::with_capacity(LIMITS, 100).capacity();
    assert!((64..=100).contains(&small), "{small}");
    assert_eq!(MemoryAttempts::with_capacity(LIMITS, 0).capacity(), 1);
}
