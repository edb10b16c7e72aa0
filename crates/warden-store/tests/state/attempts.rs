//! Failed-attempt cases every `AttemptState` must pass: limits, independence of keys,
//! back-off, exact arithmetic on wall-clock times, concurrency, and step-by-step
//! equivalence with the in-process counters.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use warden_store::{AttemptKey, AttemptLimits, AttemptState, MemoryAttempts};

use super::Backend;

const WINDOW: u64 = 10_000;

/// 3 per IP, 2 per user, 10 s windows, back-off capped at 35 s.
pub const LIMITS: AttemptLimits = AttemptLimits {
    per_ip: 3,
    per_user: 2,
    window_ms: WINDOW,
    max_backoff_ms: 35_000,
};

/// A wall-clock instant in milliseconds (November 2023), well above 2^32 and Lua's `%.14g`.
const NOW: u64 = 1_700_000_123_456;

pub fn ip(last: u8) -> AttemptKey {
    AttemptKey::Ip(IpAddr::V4(Ipv4Addr::new(192, 0, 2, last)))
}

pub fn user(name: &str) -> AttemptKey {
    AttemptKey::User(name.to_owned())
}

async fn fail(state: &dyn AttemptState, keys: &[AttemptKey], now_ms: u64, times: usize) {
    for _ in 0..times {
        state.record_failure(keys, now_ms).await.unwrap();
    }
}

/// Seconds until the keys may try again (None: not blocked); always whole seconds.
async fn wait(state: &dyn AttemptState, keys: &[AttemptKey], now_ms: u64) -> Option<u64> {
    let d = state.retry_after(keys, now_ms).await.unwrap();
    d.map(|d| {
        assert_eq!(d.subsec_nanos(), 0, "whole seconds");
        d.as_secs()
    })
}

pub async fn reaching_the_limit_blocks_until_the_window_ends(backend: &dyn Backend) {
    let state = backend.state(LIMITS);
    let state = &*state;
    let alice = [user("alice")];
    fail(state, &alice, 1_000, 1).await;
    assert_eq!(wait(state, &alice, 1_000).await, None);
    fail(state, &alice, 2_000, 1).await;
    assert_eq!(wait(state, &alice, 2_000).await, Some(8));
    assert_eq!(wait(state, &alice, 2_500).await, Some(8), "rounded up");
    assert_eq!(wait(state, &alice, 9_001).await, Some(1));
    assert_eq!(wait(state, &alice, 9_999).await, Some(1), "at least 1 s");
    assert_eq!(wait(state, &alice, 10_000).await, None);
    // The new window starts from zero: one failure is judged, the second blocks
    // again (this window follows the block, so it carries one window of back-off).
    fail(state, &alice, 10_000, 1).await;
    assert_eq!(wait(state, &alice, 10_000).await, None);
    assert_eq!(wait(state, &[], 10_000).await, None);
    fail(state, &alice, 10_000, 1).await;
    assert_eq!(wait(state, &alice, 10_000).await, Some(20));
}

pub async fn ip_limit_is_separate_and_higher(backend: &dyn Backend) {
    let state = backend.state(LIMITS);
    let state = &*state;
    let a = [ip(1)];
    fail(state, &a, 0, 2).await;
    assert_eq!(wait(state, &a, 0).await, None);
    fail(state, &a, 0, 1).await;
    assert_eq!(wait(state, &a, 0).await, Some(10));
    assert_eq!(wait(state, &[ip(2)], 0).await, None);
    let v6 = AttemptKey::Ip(IpAddr::V6(Ipv6Addr::LOCALHOST));
    assert_eq!(wait(state, &[v6], 0).await, None);
}

pub async fn default_limits_judge_ten_per_name_and_twenty_per_ip_then_block(backend: &dyn Backend) {
    let state = backend.state(AttemptLimits::default());
    let state = &*state;
    // Ten wrong passwords for one name are judged; the tenth blocks, so the
    // eleventh attempt is refused before any hashing.
    let bob = [user("bob")];
    fail(state, &bob, 0, 9).await;
    assert_eq!(wait(state, &bob, 0).await, None);
    fail(state, &bob, 0, 1).await;
    assert_eq!(wait(state, &bob, 0).await, Some(60));
    let a = [ip(1)];
    fail(state, &a, 0, 19).await;
    assert_eq!(wait(state, &a, 0).await, None);
    fail(state, &a, 0, 1).await;
    assert_eq!(wait(state, &a, 0).await, Some(60));
}

pub async fn a_zero_limit_counts_as_one(backend: &dyn Backend) {
    let state = backend.state(AttemptLimits {
        per_ip: 0,
        per_user: 0,
        ..LIMITS
    });
    let state = &*state;
    assert_eq!(wait(state, &[user("alice"), ip(1)], 0).await, None);
    fail(state, &[user("alice")], 0, 1).await;
    assert_eq!(wait(state, &[user("alice")], 0).await, Some(10));
    fail(state, &[ip(1)], 5_000, 1).await;
    assert_eq!(wait(state, &[ip(1)], 5_000).await, Some(5));
}

pub async fn user_and_ip_are_blocked_independently(backend: &dyn Backend) {
    let state = backend.state(LIMITS);
    let state = &*state;
    // Two failures: they reach the user limit (2), not the IP limit (3).
    fail(state, &[ip(1), user("alice")], 0, 2).await;
    assert_eq!(wait(state, &[user("alice")], 0).await, Some(10));
    assert_eq!(wait(state, &[ip(1)], 0).await, None);
    assert_eq!(wait(state, &[ip(1), user("bob")], 0).await, None);
    assert_eq!(wait(state, &[ip(9), user("alice")], 0).await, Some(10));

    // One IP spraying three names: the IP is blocked, no name is.
    let names = ["u1", "u2", "u3"];
    for (i, name) in names.iter().enumerate() {
        fail(state, &[ip(2), user(name)], 1_000 * i as u64, 1).await;
    }
    assert_eq!(wait(state, &[ip(2)], 2_000).await, Some(8));
    for name in names {
        assert_eq!(wait(state, &[ip(3), user(name)], 2_000).await, None);
    }
}

pub async fn one_call_counts_every_key_against_its_own_limit(backend: &dyn Backend) {
    let state = backend.state(LIMITS);
    let state = &*state;
    let v6 = AttemptKey::Ip("2001:db8::7".parse().unwrap());
    let keys = [ip(7), v6.clone(), user("dave"), user("erin")];
    fail(state, &keys, NOW, 2).await;
    // Users (limit 2) are blocked, addresses (limit 3) are not; the longest block wins.
    for key in [user("dave"), user("erin")] {
        assert!(wait(state, &[key], NOW).await.is_some());
    }
    assert_eq!(wait(state, &[ip(7)], NOW).await, None);
    assert_eq!(wait(state, std::slice::from_ref(&v6), NOW).await, None);
    fail(state, std::slice::from_ref(&v6), NOW, 1).await;
    assert!(wait(state, &[v6], NOW).await.is_some());
    assert_eq!(
        wait(state, &[ip(7)], NOW).await,
        None,
        "v4 and v6 are apart"
    );
}

pub async fn names_are_opaque_exact_strings(backend: &dyn Backend) {
    let state = backend.state(LIMITS);
    let state = &*state;
    // The store never looks names up, so a real and an invented name behave alike.
    for name in ["alice", "no-such-user-7f3a"] {
        fail(state, &[user(name)], 0, 1).await;
        assert_eq!(wait(state, &[user(name)], 0).await, None);
        fail(state, &[user(name)], 0, 1).await;
        assert_eq!(wait(state, &[user(name)], 0).await, Some(10));
    }
    for other in ["Alice", "alice ", " alice", "alic", ""] {
        assert_eq!(wait(state, &[user(other)], 0).await, None, "{other:?}");
    }
    let long = "x".repeat(8_192);
    fail(state, &[user(&long)], 0, 2).await;
    assert_eq!(wait(state, &[user(&long)], 0).await, Some(10));
    assert_eq!(wait(state, &[user(&long[1..])], 0).await, None);
    // Separators and braces in names cannot reach into another key or slot.
    fail(state, &[user("}att:ip:192.0.2.1\r\n{")], 0, 2).await;
    assert_eq!(wait(state, &[ip(1)], 0).await, None);
}

pub async fn failures_while_blocked_do_not_escalate_the_same_window(backend: &dyn Backend) {
    let state = backend.state(LIMITS);
    let state = &*state;
    fail(state, &[user("alice")], 0, 50).await;
    assert_eq!(wait(state, &[user("alice")], 0).await, Some(10));
    assert_eq!(wait(state, &[user("alice")], WINDOW).await, None);
}

pub async fn backoff_doubles_per_consecutive_window_then_caps_then_resets(backend: &dyn Backend) {
    let state = backend.state(LIMITS);
    let state = &*state;
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
        assert_eq!(wait(state, &alice, now).await, None, "free at {now}");
        fail(state, &alice, now, 2).await;
        assert_eq!(wait(state, &alice, now).await, Some(secs), "burst at {now}");
    }
    assert_eq!(wait(state, &alice, 184_999).await, Some(1));
    assert_eq!(wait(state, &alice, 185_000).await, None);
    // Window 18 stays below the limit, which resets the back-off.
    fail(state, &alice, 185_000, 1).await;
    assert_eq!(wait(state, &alice, 185_000).await, None);
    fail(state, &alice, 190_000, 2).await;
    assert_eq!(wait(state, &alice, 190_000).await, Some(10));
}

pub async fn a_skipped_window_resets_the_backoff(backend: &dyn Backend) {
    let state = backend.state(LIMITS);
    let state = &*state;
    let alice = [user("alice")];
    fail(state, &alice, 0, 2).await;
    fail(state, &alice, 10_000, 2).await;
    assert_eq!(wait(state, &alice, 10_000).await, Some(20));
    // Free from 30 s; nothing in window 3; window 4 is a first offence again.
    fail(state, &alice, 40_000, 2).await;
    assert_eq!(wait(state, &alice, 40_000).await, Some(10));
}

pub async fn default_limits_block_for_at_most_a_window_plus_fifteen_minutes(backend: &dyn Backend) {
    let state = backend.state(AttemptLimits::default());
    let state = &*state;
    let bob = [user("bob")];
    let mut now = 0;
    for _ in 0..20 {
        fail(state, &bob, now, 10).await;
        let secs = wait(state, &bob, now).await.unwrap();
        assert!(secs <= 60 + 15 * 60, "{secs}");
        now += secs * 1_000;
    }
    assert_eq!(wait(state, &bob, now - 1_000).await, Some(1));
    assert_eq!(wait(state, &bob, now).await, None);
    // Blocks of 60, 120, 180, 300, 540 s, then window + cap (960 s) for the other 15.
    assert_eq!(now, (60 + 120 + 180 + 300 + 540 + 15 * 960) * 1_000);
}

pub async fn wall_clock_milliseconds_are_exact(backend: &dyn Backend) {
    let state = backend.state(LIMITS);
    let state = &*state;
    let frank = [user("frank")];
    // NOW lies 3_456 ms into its window: blocked until the window end, 6_544 ms later.
    fail(state, &frank, NOW, 2).await;
    let window_end = (NOW / WINDOW + 1) * WINDOW;
    assert_eq!(wait(state, &frank, NOW).await, Some(7));
    assert_eq!(wait(state, &frank, window_end - 1_000).await, Some(1));
    assert_eq!(wait(state, &frank, window_end - 1_001).await, Some(2));
    assert_eq!(wait(state, &frank, window_end - 1).await, Some(1));
    assert_eq!(
        wait(state, &frank, window_end).await,
        None,
        "to the millisecond"
    );
    // The next window continues the streak: window end + one window of back-off.
    fail(state, &frank, window_end, 2).await;
    assert_eq!(
        wait(state, &frank, window_end + 2 * WINDOW - 1).await,
        Some(1)
    );
    assert_eq!(wait(state, &frank, window_end + 2 * WINDOW).await, None);
}

pub async fn no_keys_is_a_no_op(backend: &dyn Backend) {
    let state = backend.state(LIMITS);
    state.record_failure(&[], NOW).await.unwrap();
    assert_eq!(state.retry_after(&[], NOW).await.unwrap(), None);
}

pub async fn concurrent_failures_are_each_counted_once(backend: &dyn Backend) {
    let state = backend.state(AttemptLimits {
        per_user: 101,
        per_ip: 50,
        ..LIMITS
    });
    let keys = [user("carol"), ip(5)];
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let (state, keys) = (Arc::clone(&state), keys.clone());
            tokio::spawn(async move { state.record_failure(&keys, NOW).await.unwrap() })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let state = &*state;
    // 100 counted, not fewer: the 101st failure is the one that blocks the name.
    assert_eq!(wait(state, &[user("carol")], NOW).await, None);
    fail(state, &[user("carol")], NOW, 1).await;
    assert_eq!(wait(state, &[user("carol")], NOW).await, Some(7));
    // The address reached its limit of 50 exactly once: no back-off was added.
    assert_eq!(wait(state, &[ip(5)], NOW).await, Some(7));
}

pub async fn a_scripted_sequence_matches_the_in_process_counters(backend: &dyn Backend) {
    let state = backend.state(LIMITS);
    let state = &*state;
    let reference = MemoryAttempts::new(LIMITS);
    let v6 = AttemptKey::Ip(IpAddr::V6(Ipv6Addr::LOCALHOST));
    let pool = [ip(1), ip(2), v6, user("alice"), user("bob")];
    let steps = [0, 1, 499, 3_000, 6_999, 10_000, 12_345, 25_000];
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut now = NOW;
    for step in 0..400 {
        now += steps[rng.below(steps.len())];
        if rng.below(10) < 7 {
            let keys: Vec<AttemptKey> = (0..1 + rng.below(3))
                .map(|_| pool[rng.below(pool.len())].clone())
                .collect();
            state.record_failure(&keys, now).await.unwrap();
            reference.record_failure(&keys, now).await.unwrap();
        }
        for key in &pool {
            let keys = std::slice::from_ref(key);
            let want = reference.retry_after(keys, now).await.unwrap();
            let got = state.retry_after(keys, now).await.unwrap();
            assert_eq!(got, want, "step {step}, {key:?} at {now}");
        }
    }
}

/// A tiny deterministic generator, so a failing sequence can be replayed.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}
