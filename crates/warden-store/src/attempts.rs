//! Failed-attempt counting (brute-force protection) behind [`AttemptState`],
//! so the in-process counter and a shared one (Redis) are interchangeable.

mod memory;

use std::net::IpAddr;
use std::time::Duration;

use async_trait::async_trait;

use crate::StoreError;

pub use memory::{DEFAULT_CAPACITY, MemoryAttempts};

/// What failed attempts are counted against.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AttemptKey {
    /// The client address.
    Ip(IpAddr),
    /// The user name exactly as typed, whether or not such a user exists.
    User(String),
}

/// Limits per window; defaults: 20 per IP, 10 per user name, 60 s window, back-off capped at 15 min.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttemptLimits {
    /// Failures allowed per window for one client address; the one that reaches it blocks (0 counts as 1).
    pub per_ip: u32,
    /// Failures allowed per window for one user name; the one that reaches it blocks (0 counts as 1).
    pub per_user: u32,
    /// Length of the fixed counting window, in milliseconds (0 counts as 1).
    pub window_ms: u64,
    /// Longest extra block after a window ends, in milliseconds.
    pub max_backoff_ms: u64,
}

impl Default for AttemptLimits {
    fn default() -> Self {
        Self {
            per_ip: 20,
            per_user: 10,
            window_ms: 60_000,
            max_backoff_ms: 15 * 60_000,
        }
    }
}

impl AttemptLimits {
    /// The failures allowed per window for this kind of key.
    pub fn limit_for(&self, key: &AttemptKey) -> u32 {
        match key {
            AttemptKey::Ip(_) => self.per_ip,
            AttemptKey::User(_) => self.per_user,
        }
    }

    /// The window length actually used; a zero window would divide by zero.
    pub fn window(&self) -> u64 {
        self.window_ms.max(1)
    }

    /// Block added after the window end for the `streak`-th consecutive window that reached the limit.
    ///
    /// 0 for the first, then one window, doubling each time, capped at `max_backoff_ms`.
    pub fn backoff_ms(&self, streak: u32) -> u64 {
        let Some(doublings) = streak.checked_sub(2) else {
            return 0;
        };
        let factor = 1u64.checked_shl(doublings).unwrap_or(u64::MAX);
        self.window()
            .saturating_mul(factor)
            .min(self.max_backoff_ms)
    }
}

/// Shared failed-attempt state; implementations must be safe to call from every request.
#[async_trait]
pub trait AttemptState: Send + Sync {
    /// How long until these keys may try again (None: not throttled). Called BEFORE any password hashing.
    async fn retry_after(
        &self,
        keys: &[AttemptKey],
        now_ms: u64,
    ) -> Result<Option<Duration>, StoreError>;

    /// Records one failed attempt against each key.
    async fn record_failure(&self, keys: &[AttemptKey], now_ms: u64) -> Result<(), StoreError>;
}

/// A remaining block as `Retry-After` wants it: whole seconds, rounded up, at least 1 s.
pub fn retry_after_secs(remaining_ms: u64) -> Duration {
    // Rounding down would invite a retry that is still refused.
    Duration::from_secs(remaining_ms.div_ceil(1000).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let l = AttemptLimits::default();
        assert_eq!((l.per_ip, l.per_user), (20, 10));
        assert_eq!((l.window_ms, l.max_backoff_ms), (60_000, 900_000));
        assert_eq!(l.limit_for(&AttemptKey::User("x".into())), 10);
        assert_eq!(l.limit_for(&AttemptKey::Ip([127, 0, 0, 1].into())), 20);
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let l = AttemptLimits::default();
        let got: Vec<u64> = (0..=8).map(|s| l.backoff_ms(s)).collect();
        let want = [
            0, 0, 60_000, 120_000, 240_000, 480_000, 900_000, 900_000, 900_000,
        ];
        assert_eq!(got, want);
        assert_eq!(l.backoff_ms(u32::MAX), 900_000);
    }

    #[test]
    fn zero_window_is_one_ms() {
        let l = AttemptLimits {
            window_ms: 0,
            ..AttemptLimits::default()
        };
        assert_eq!(l.window(), 1);
        assert_eq!(l.backoff_ms(3), 2);
    }

    #[test]
    fn rounding() {
        assert_eq!(retry_after_secs(1), Duration::from_secs(1));
        assert_eq!(retry_after_secs(1000), Duration::from_secs(1));
        assert_eq!(retry_after_secs(1001), Duration::from_secs(2));
        assert_eq!(retry_after_secs(0), Duration::from_secs(1));
    }
}
