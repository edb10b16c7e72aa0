//! Log timestamps: RFC 3339 in UTC with microseconds, as tracing writes them by default, but
//! the date and time of day are formatted once per second instead of on every line (that was
//! a fifth of the cost of a decision line).

use std::cell::RefCell;
use std::fmt::{self, Write as _};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;

/// The timer for `tracing_subscriber::fmt`.
pub struct LogTime;

thread_local! {
    /// The last second formatted on this thread, and its text.
    static SECOND: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
}

impl FormatTime for LogTime {
    fn format_time(&self, w: &mut Writer<'_>) -> fmt::Result {
        #[expect(
            clippy::disallowed_methods,
            reason = "log lines carry the wall clock; nothing is decided on it"
        )]
        let now = SystemTime::now();
        let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
        SECOND.with_borrow_mut(|(second, text)| {
            if *second != since.as_secs() {
                *second = since.as_secs();
                *text = seconds_text(*second);
            }
            w.write_str(text)
        })?;
        w.write_str(&fraction(since))
    }
}

/// `YYYY-MM-DDTHH:MM:SS` in UTC.
fn seconds_text(secs: u64) -> String {
    let at = i64::try_from(secs)
        .ok()
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let mut text = String::with_capacity(19);
    let _ = write!(
        text,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    );
    text
}

/// `.ffffffZ`.
fn fraction(since: Duration) -> String {
    format!(".{:06}Z", since.subsec_micros())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_and_fraction_read_as_rfc_3339_utc() {
        assert_eq!(seconds_text(0), "1970-01-01T00:00:00");
        assert_eq!(seconds_text(1_795_671_811), "2026-11-26T05:43:31");
        assert_eq!(fraction(Duration::new(5, 657_174_999)), ".657174Z");
        assert_eq!(fraction(Duration::new(5, 1_000)), ".000001Z");
    }
}
