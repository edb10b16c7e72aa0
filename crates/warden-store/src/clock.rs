//! The crate's only access to wall-clock time.

use std::time::{SystemTime, UNIX_EPOCH};

/// Current time as whole seconds since the Unix epoch.
pub fn now_unix() -> i64 {
    // A clock set before 1970 is a misconfiguration; 0 beats failing a write.
    #[expect(
        clippy::disallowed_methods,
        reason = "the clock module is the one allowed reader"
    )]
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    i64::try_from(secs).unwrap_or(i64::MAX)
}
