//! A criterion measurement of the benchmark thread's CPU time (CLOCK_THREAD_CPUTIME_ID) rather
//! than wall time: on a machine shared with other work, time spent waiting for the CPU is not
//! counted, so the figure is the cost of the code itself.

use criterion::measurement::{Measurement, ValueFormatter, WallTime};

/// Thread CPU time, in nanoseconds.
pub struct ThreadCpuTime;

static WALL: WallTime = WallTime;

fn now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant Linux supports.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

impl Measurement for ThreadCpuTime {
    type Intermediate = u64;
    type Value = u64;

    fn start(&self) -> u64 {
        now_ns()
    }
    fn end(&self, start: u64) -> u64 {
        now_ns().saturating_sub(start)
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, value: &u64) -> f64 {
        *value as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        // Nanoseconds, formatted like wall time.
        WALL.formatter()
    }
}

/// A criterion configured with thread CPU time.
pub fn criterion() -> criterion::Criterion<ThreadCpuTime> {
    criterion::Criterion::default().with_measurement(ThreadCpuTime)
}
