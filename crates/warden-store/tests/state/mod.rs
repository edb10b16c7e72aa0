//! The state suite: cases written once against `AttemptState` (and, for Redis, revocation
//! fan-out), instantiated per backend by the `attempt_cases!` macro, one test per case.
// Each binary uses the part of these helpers its backend needs.
#![allow(dead_code)]

pub mod attempts;
pub mod revocations;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use warden_store::{AttemptLimits, AttemptState, RedisSpec, RedisState};

/// Makes fresh, empty state with the given limits, as many times as a case asks.
pub trait Backend {
    fn state(&self, limits: AttemptLimits) -> Arc<dyn AttemptState>;
}

/// A Redis backend: every state gets its own key prefix, so cases run in parallel.
pub struct Redis {
    pub urls: Vec<String>,
    pub cluster: bool,
}

impl Redis {
    /// The machine's Redis: `WARDEN_TEST_REDIS_URL`, default `redis://127.0.0.1:6379/0`.
    pub fn standalone() -> Self {
        Redis {
            urls: vec![machine_redis_url()],
            cluster: false,
        }
    }

    pub fn spec(&self, prefix: &str, limits: AttemptLimits) -> RedisSpec {
        RedisSpec {
            urls: self.urls.clone(),
            cluster: self.cluster,
            prefix: prefix.to_owned(),
            timeout: Duration::from_secs(2),
            limits,
        }
    }

    pub fn open(&self, prefix: &str, limits: AttemptLimits) -> RedisState {
        RedisState::new(self.spec(prefix, limits)).unwrap()
    }
}

impl Backend for Redis {
    fn state(&self, limits: AttemptLimits) -> Arc<dyn AttemptState> {
        Arc::new(self.open(&unique_prefix(), limits))
    }
}

pub fn machine_redis_url() -> String {
    std::env::var("WARDEN_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/0".into())
}

/// A key prefix no other test (of this run or an earlier one) uses.
pub fn unique_prefix() -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let secs = warden_store::clock::now_unix();
    format!("warden-test:{secs}:{}:{n}:", std::process::id())
}

/// One `#[tokio::test]` per attempt case, each given a fresh `$backend`.
#[allow(unused_macros)]
macro_rules! attempt_cases {
    ($backend:expr) => {
        attempt_cases!(@each $backend;
            reaching_the_limit_blocks_until_the_window_ends,
            ip_limit_is_separate_and_higher,
            default_limits_judge_ten_per_name_and_twenty_per_ip_then_block,
            a_zero_limit_counts_as_one,
            user_and_ip_are_blocked_independently,
            one_call_counts_every_key_against_its_own_limit,
            names_are_opaque_exact_strings,
            failures_while_blocked_do_not_escalate_the_same_window,
            backoff_doubles_per_consecutive_window_then_caps_then_resets,
            a_skipped_window_resets_the_backoff,
            default_limits_block_for_at_most_a_window_plus_fifteen_minutes,
            wall_clock_milliseconds_are_exact,
            no_keys_is_a_no_op,
            concurrent_failures_are_each_counted_once,
            a_scripted_sequence_matches_the_in_process_counters,
        );
    };
    (@each $backend:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let backend = $backend;
                $crate::state::attempts::$case(&backend).await;
            }
        )*
    };
}
