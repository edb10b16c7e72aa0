//! Failing fast while a backend is down: after a call finds it unreachable, the calls that
//! follow fail at once instead of each waiting out the timeout, and one call at a time probes
//! for its return. An outage then costs a request nothing, and a password-hashing slot or a
//! worker is never held waiting for a server that is gone.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long calls fail at once after a failure before one of them probes again.
const DOWN_FOR: Duration = Duration::from_millis(500);

/// Whether a backend was last found reachable.
#[derive(Debug)]
pub(crate) struct Breaker {
    base: Instant,
    /// 0 while the backend answers; otherwise, in ms since `base`, when the next probe may go.
    down_until: AtomicU64,
    /// How long a probe may take: meanwhile the other calls keep failing fast.
    probe_for: u64,
}

impl Breaker {
    /// A breaker for a backend whose calls are bounded by `timeout`.
    pub(crate) fn new(timeout: Duration) -> Self {
        Self {
            base: Instant::now(),
            down_until: AtomicU64::new(0),
            probe_for: millis(timeout),
        }
    }

    /// True when this call may go to the backend: it is up, or this call is the probe.
    pub(crate) fn admit(&self) -> bool {
        let until = self.down_until.load(Ordering::Acquire);
        if until == 0 {
            return true;
        }
        let now = self.now();
        if now < until {
            return false;
        }
        // One caller wins the probe; the deadline moves so the others keep failing fast.
        let next = now.saturating_add(self.probe_for).max(1);
        (self.down_until)
            .compare_exchange(until, next, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Records how an admitted call went: `reachable` unless it failed for want of the backend.
    pub(crate) fn record(&self, reachable: bool) {
        if reachable {
            if self.down_until.load(Ordering::Relaxed) != 0 {
                self.down_until.store(0, Ordering::Release);
            }
        } else {
            let until = self.now().saturating_add(millis(DOWN_FOR)).max(1);
            self.down_until.store(until, Ordering::Release);
        }
    }

    fn now(&self) -> u64 {
        millis(self.base.elapsed())
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_fails_the_next_calls_fast_then_lets_one_probe() {
        let breaker = Breaker::new(Duration::from_secs(2));
        assert!(breaker.admit());
        breaker.record(false);
        assert!(!breaker.admit(), "fails fast right after a failure");
        // Pretend the window has passed.
        breaker.down_until.store(1, Ordering::Release);
        std::thread::sleep(Duration::from_millis(2));
        assert!(breaker.admit(), "one probe goes");
        assert!(!breaker.admit(), "only one");
        breaker.record(true);
        assert!(
            breaker.admit() && breaker.admit(),
            "up again: everyone goes"
        );
    }
}
