//! In-process failed-attempt counters, bounded by a `quick_cache` capacity.

use std::net::IpAddr;
use std::time::Duration;

use async_trait::async_trait;
use quick_cache::sync::{Cache, DefaultLifecycle, EntryAction, EntryResult};
use quick_cache::{DefaultHashBuilder, UnitWeighter};

use super::{AttemptKey, AttemptLimits, AttemptState, retry_after_secs};
use crate::StoreError;

/// Entries kept by [`MemoryAttempts::new`].
pub const DEFAULT_CAPACITY: usize = 100_000;

/// [`AttemptState`] for one process; counts are lost on restart and on eviction.
pub struct MemoryAttempts {
    limits: AttemptLimits,
    capacity: usize,
    counters: Cache<Slot, Counter>,
}

/// The cache key: user names are stored as their SHA-256, so a flood of
/// long names costs the same fixed size per entry as a flood of short ones.
#[derive(Clone, PartialEq, Eq, Hash)]
enum Slot {
    Ip(IpAddr),
    User([u8; 32]),
}

impl Slot {
    fn of(key: &AttemptKey) -> Slot {
        match key {
            AttemptKey::Ip(ip) => Slot::Ip(*ip),
            AttemptKey::User(name) => {
                let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, name.as_bytes());
                let mut out = [0u8; 32];
                out.iter_mut()
                    .zip(digest.as_ref())
                    .for_each(|(o, b)| *o = *b);
                Slot::User(out)
            }
        }
    }
}

/// One key's state: its current fixed window and its block.
#[derive(Clone, Copy, Debug, Default)]
struct Counter {
    /// Index of the window `failures` belongs to (`now_ms / window`).
    window: u64,
    /// Failures in that window.
    failures: u32,
    /// Consecutive windows that reached the limit, the one that set `blocked_until` included.
    streak: u32,
    /// No attempts before this instant, in milliseconds.
    blocked_until: u64,
}

impl Counter {
    fn record(&mut self, now_ms: u64, limit: u32, limits: &AttemptLimits) {
        let window_ms = limits.window();
        let window = now_ms / window_ms;
        if window != self.window {
            self.window = window;
            self.failures = 0;
        }
        self.failures = self.failures.saturating_add(1);
        // `limit` failures are judged per window; the one that reaches the limit blocks the
        // key, and only that one escalates, so racing requests cannot count a window twice.
        if self.failures != limit.max(1) {
            return;
        }
        // Windows spent blocked do not break a streak: the first window in which
        // the key may try again is the window that holds `blocked_until`.
        let consecutive = self.streak > 0 && window <= self.blocked_until / window_ms;
        self.streak = if consecutive {
            self.streak.saturating_add(1)
        } else {
            1
        };
        let window_end = window.saturating_add(1).saturating_mul(window_ms);
        self.blocked_until = window_end.saturating_add(limits.backoff_ms(self.streak));
    }
}

impl MemoryAttempts {
    /// Counters for up to [`DEFAULT_CAPACITY`] keys.
    pub fn new(limits: AttemptLimits) -> Self {
        Self::with_capacity(limits, DEFAULT_CAPACITY)
    }

    /// Counters for up to `capacity` keys (at least 1); the least useful are forgotten first.
    pub fn with_capacity(limits: AttemptLimits, capacity: usize) -> Self {
        let (counters, capacity) = bounded_cache(capacity.max(1));
        Self {
            limits,
            capacity,
            counters,
        }
    }

    /// Keys currently tracked.
    pub fn len(&self) -> usize {
        self.counters.len()
    }

    /// True when no key is tracked.
    pub fn is_empty(&self) -> bool {
        self.counters.is_empty()
    }

    /// Most keys ever tracked at once (the requested capacity, rounded down to whole shards).
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    fn record_one(&self, key: &AttemptKey, now_ms: u64) {
        let (limit, limits) = (self.limits.limit_for(key), &self.limits);
        let slot = Slot::of(key);
        // `entry` holds the shard lock across read-modify-write, so concurrent
        // failures are all counted.
        let result = self.counters.entry(&slot, None, |_, counter| {
            counter.record(now_ms, limit, limits);
            EntryAction::Retain(())
        });
        if let EntryResult::Vacant(guard) = result {
            let mut counter = Counter::default();
            counter.record(now_ms, limit, limits);
            // Fails only if the slot was removed meanwhile; one lost count is harmless.
            let _ = guard.insert(counter);
        }
    }
}

/// A cache holding at most `capacity` entries, and its exact bound.
fn bounded_cache(capacity: usize) -> (Cache<Slot, Counter>, usize) {
    let mut cache = Cache::new(capacity);
    let shards = cache.num_shards().max(1);
    // Each shard rounds its share up, which would let the total exceed
    // `capacity`; a multiple of the shard count makes it a hard bound.
    let trimmed = capacity / shards * shards;
    if trimmed != capacity {
        // The shard count depends only on the item estimate, so it is unchanged.
        cache = Cache::with(
            capacity,
            u64::try_from(trimmed).unwrap_or(u64::MAX),
            UnitWeighter,
            DefaultHashBuilder::default(),
            DefaultLifecycle::default(),
        );
    }
    let bound = usize::try_from(cache.capacity()).unwrap_or(usize::MAX);
    (cache, bound)
}

impl std::fmt::Debug for MemoryAttempts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryAttempts")
            .field("limits", &self.limits)
            .field("capacity", &self.capacity)
            .field("len", &self.len())
            .finish()
    }
}

#[async_trait]
impl AttemptState for MemoryAttempts {
    async fn retry_after(
        &self,
        keys: &[AttemptKey],
        now_ms: u64,
    ) -> Result<Option<Duration>, StoreError> {
        let remaining = keys
            .iter()
            .filter_map(|key| self.counters.get(&Slot::of(key)))
            .map(|counter| counter.blocked_until.saturating_sub(now_ms))
            .max()
            .unwrap_or(0);
        Ok((remaining > 0).then(|| retry_after_secs(remaining)))
    }

    async fn record_failure(&self, keys: &[AttemptKey], now_ms: u64) -> Result<(), StoreError> {
        keys.iter().for_each(|key| self.record_one(key, now_ms));
        Ok(())
    }
}
