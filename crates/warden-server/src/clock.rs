//! The one place the server reads the wall clock; everything else is handed `now`.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch.
pub fn now_unix() -> u64 {
    #[expect(
        clippy::disallowed_methods,
        reason = "the clock module is the one allowed reader"
    )]
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
