//! The audit trail: one JSON line per decision, written by a thread of its own so a slow disk
//! never holds a request for longer than its queue has room. Denials are always written;
//! allows are sampled. No line holds a secret: only the fields below, none of which is a
//! credential.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, TrySendError, sync_channel};
use std::time::Duration;

use serde::Serialize;
use warden_core::config::{AuditConfig, AuditSink};

use crate::app::Judged;

/// Lines queued before a request waits for the writer (many batches' worth).
const QUEUE: usize = 16_384;

/// One decision, as written.
#[derive(Debug, Serialize)]
pub struct Line<'a> {
    /// RFC 3339, UTC, milliseconds.
    pub time: String,
    /// The decision id (`X-Warden-Decision`).
    pub decision: &'a str,
    /// The request id from a trusted proxy.
    pub request_id: Option<&'a str>,
    /// The rule that decided.
    pub rule: Option<&'a str>,
    /// `allow`, `preflight` or the status sent.
    pub outcome: &'a str,
    /// The real status.
    pub status: u16,
    /// The stable reason code.
    pub reason: &'a str,
    /// Who, when proven.
    pub subject: Option<&'a str>,
    /// Which authenticator judged the request.
    pub authenticator: Option<&'a str>,
    /// The client address.
    pub client: String,
    /// The judged method.
    pub method: &'a str,
    /// The normalized path, without the query (as sent when it cannot be normalized).
    pub path: std::borrow::Cow<'a, str>,
    /// Microseconds from facts to answer.
    pub latency_us: u64,
}

enum Message {
    Line(String),
    Reopen,
    /// Write out everything before this, then say so.
    Sync(SyncSender<()>),
}

/// The audit writer for one `[audit]` configuration.
pub struct Audit {
    config: AuditConfig,
    queue: SyncSender<Message>,
}

impl Audit {
    /// Opens the sink and starts its writer; a file that cannot be opened is an error.
    pub fn start(config: &AuditConfig) -> std::io::Result<Self> {
        let out = Out::open(&config.sink)?;
        let (queue, lines) = sync_channel(QUEUE);
        std::thread::Builder::new()
            .name("warden-audit".into())
            .spawn(move || write_lines(out, &lines))?;
        Ok(Self {
            config: config.clone(),
            queue,
        })
    }

    /// The configuration this writer serves.
    pub fn config(&self) -> &AuditConfig {
        &self.config
    }

    /// Whether a decision is written: every denial, a share of the allows.
    pub fn wants(&self, allowed: bool) -> bool {
        !allowed || sample(self.config.sample_allows)
    }

    /// Queues a line; waits only when the writer is a whole queue behind.
    pub fn write(&self, line: &Line<'_>) {
        let Ok(mut text) = serde_json::to_string(line) else {
            return;
        };
        text.push('\n');
        self.send(Message::Line(text));
    }

    /// Reopens the file (after logrotate moved it).
    pub fn reopen(&self) {
        self.send(Message::Reopen);
    }

    /// Waits (at most `wait`) until every line queued so far is written: at shutdown.
    pub fn sync(&self, wait: Duration) {
        let (done, written) = sync_channel(1);
        self.send(Message::Sync(done));
        if written.recv_timeout(wait).is_err() {
            tracing::warn!("audit lines may be missing: the writer did not finish in time");
        }
    }

    fn send(&self, message: Message) {
        match self.queue.try_send(message) {
            Ok(()) | Err(TrySendError::Disconnected(_)) => {}
            Err(TrySendError::Full(message)) => {
                let _ = self.queue.send(message);
            }
        }
    }
}

/// A share `rate` of calls say yes (xorshift per thread; no lock, no syscall).
fn sample(rate: f64) -> bool {
    use std::cell::Cell;
    use std::hash::{BuildHasher, RandomState};
    thread_local! {
        static STATE: Cell<u64> = Cell::new(RandomState::new().hash_one(0u8) | 1);
    }
    if rate >= 1.0 {
        return true;
    }
    let next = STATE.with(|s| {
        let mut x = s.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.set(x);
        x
    });
    #[expect(clippy::cast_precision_loss, reason = "53 random bits are plenty")]
    let unit = (next >> 11) as f64 / (1u64 << 53) as f64;
    unit < rate
}

enum Out {
    File { path: PathBuf, file: File },
    Stdout,
}

impl Out {
    fn open(sink: &AuditSink) -> std::io::Result<Self> {
        Ok(match sink {
            AuditSink::Stdout => Self::Stdout,
            AuditSink::File(path) => Self::File {
                file: append(path)?,
                path: path.clone(),
            },
        })
    }

    fn write(&mut self, batch: &[u8]) -> std::io::Result<()> {
        match self {
            Self::File { file, .. } => file.write_all(batch),
            Self::Stdout => {
                let mut out = std::io::stdout().lock();
                out.write_all(batch)?;
                out.flush()
            }
        }
    }

    fn reopen(&mut self) {
        if let Self::File { path, file } = self {
            match append(path) {
                Ok(new) => *file = new,
                Err(e) => {
                    tracing::error!(error = %e, path = %path.display(), "cannot reopen the audit file; writing to the old one")
                }
            }
        }
    }
}

fn append(path: &PathBuf) -> std::io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

/// How long a busy writer sleeps between batches. A writer parked in `recv` is woken by the
/// next line (a futex call and a context switch, measured at about 30 µs of CPU per decision
/// when it happens on every line); one that sleeps while lines keep coming takes a whole batch
/// per wake-up, and senders make no system call. Idle, it parks until the next line.
const BATCH_EVERY: Duration = Duration::from_millis(10);

/// The writer: every waiting line gathered into one write (one `write` per batch), so lines
/// from two writers to one file never interleave; ends once every sender is gone and the
/// queue is drained.
fn write_lines(mut out: Out, lines: &Receiver<Message>) {
    let mut batch = Vec::with_capacity(64 * 1024);
    let mut next = lines.recv().ok();
    while let Some(first) = next.take() {
        let mut message = Some(first);
        let mut open = true;
        while let Some(m) = message {
            match m {
                Message::Line(text) => batch.extend_from_slice(text.as_bytes()),
                Message::Reopen => {
                    flush(&mut out, &mut batch);
                    out.reopen();
                }
                Message::Sync(done) => {
                    flush(&mut out, &mut batch);
                    let _ = done.send(());
                }
            }
            if batch.len() >= 60 * 1024 {
                flush(&mut out, &mut batch);
            }
            message = match lines.try_recv() {
                Ok(m) => Some(m),
                Err(TryRecvError::Empty) => None,
                Err(TryRecvError::Disconnected) => {
                    open = false;
                    None
                }
            };
        }
        flush(&mut out, &mut batch);
        if !open {
            return;
        }
        std::thread::sleep(BATCH_EVERY);
        // Busy: the next batch is already waiting. Idle: park until a line comes.
        next = match lines.try_recv() {
            Ok(m) => Some(m),
            Err(TryRecvError::Empty) => lines.recv().ok(),
            Err(TryRecvError::Disconnected) => None,
        };
    }
}

fn flush(out: &mut Out, batch: &mut Vec<u8>) {
    if batch.is_empty() {
        return;
    }
    if let Err(e) = out.write(batch) {
        tracing::error!(error = %e, "audit lines lost: cannot write them");
    }
    batch.clear();
}

/// The line for one finished decision.
pub(crate) fn line<'a>(
    judged: &'a Judged<'a>,
    outcome: &'a str,
    status: u16,
    took: Duration,
) -> Line<'a> {
    let decision = judged.decision;
    let facts = judged.facts;
    let identity = decision.verdict.identity();
    let path = warden_core::path::normalize(&facts.path);
    Line {
        time: timestamp(crate::clock::now_millis()),
        decision: judged.decision_id,
        request_id: facts.request_id.as_deref(),
        rule: decision.rule.as_ref().map(|r| r.name.as_str()),
        outcome,
        status,
        reason: decision.verdict.reason(),
        subject: identity.map(|i| i.subject.as_str()),
        authenticator: Some(judged.authenticator).filter(|a| *a != "none"),
        client: facts.client.to_string(),
        method: facts.method.as_str(),
        path: path.map_or(
            std::borrow::Cow::Borrowed(facts.path.as_str()),
            std::borrow::Cow::Owned,
        ),
        latency_us: u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
    }
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` for milliseconds since the epoch.
pub fn timestamp(unix_millis: u64) -> String {
    let secs = i64::try_from(unix_millis / 1000).unwrap_or(0);
    let at =
        time::OffsetDateTime::from_unix_timestamp(secs).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        unix_millis % 1000
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc_with_milliseconds() {
        assert_eq!(timestamp(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(timestamp(1_796_409_156_123), "2026-12-04T18:32:36.123Z");
    }

    #[test]
    fn sampling_keeps_about_the_share_asked() {
        assert!((0..1000).all(|_| sample(1.0)));
        assert!((0..1000).all(|_| !sample(0.0)));
        let kept = (0..100_000).filter(|_| sample(0.25)).count();
        assert!((23_000..27_000).contains(&kept), "{kept}");
    }
}
