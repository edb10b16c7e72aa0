//! What only the in-process counters have: a bounded capacity. The semantics every
//! backend shares are the state suite (tests/state/attempts.rs, run by tests/state_*.rs).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::{IpAddr, Ipv6Addr};

use warden_store::{AttemptKey, AttemptLimits, AttemptState, MemoryAttempts};

const WINDOW: u64 = 10_000;

/// 3 per IP, 2 per user, 10 s windows, back-off capped at 35 s.
const LIMITS: AttemptLimits = AttemptLimits {
    per_ip: 3,
    per_user: 2,
    window_ms: WINDOW,
    max_backoff_ms: 35_000,
};

fn user(name: &str) -> AttemptKey {
    AttemptKey::User(name.to_owned())
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
