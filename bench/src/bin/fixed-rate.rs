//! An open-loop load client: request `i` is due at `start + i / rate`, whatever the server does.
//!
//! `fixed-rate --port P --keys FILE --count N --rate R --seconds S [--offset O] [--conns C]
//! [--path /private/x] [--header X-API-Key]` sends `GET PATH` with one key of FILE (lines
//! `O … O+N`, cycled) per request and prints one JSON object (the fields `replicas.py` reads).
//!
//! Plain threads, no async runtime: one scheduler thread sleeps with `nanosleep` (tens of µs
//! late, where asyncio's timer is ~1 ms grained) and hands each due request to the first idle
//! connection thread; when all `C` keep-alive connections are busy the request waits, and that
//! wait counts. Latency runs from the due time (coordinated omission corrected); the write-to-
//! answer time and the scheduler's own lateness are reported apart.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use warden_bench::{Args, fail};

/// One request handed to a connection thread: its index and its due time.
type Job = (usize, Instant);

/// What a connection thread reports per request.
struct Done {
    status: Option<u16>,
    from_due: Duration,
    from_write: Duration,
}

fn main() {
    let args = Args::from_env(&[]);
    let port: u16 = args.num("port", 0);
    let rate: f64 = args.num("rate", 1000.0);
    let seconds: f64 = args.num("seconds", 5.0);
    let conns: usize = args.num("conns", 32);
    let reqs = Arc::new(requests(&args, port));
    let total = (rate * seconds) as usize;
    let (job_tx, job_rx) = channel::<Job>();
    let (done_tx, done_rx) = channel::<Done>();
    let job_rx = Arc::new(Mutex::new(job_rx));
    let workers: Vec<_> = (0..conns)
        .map(|_| {
            let (jobs, done, reqs) = (job_rx.clone(), done_tx.clone(), reqs.clone());
            let stream = connect(port);
            thread::spawn(move || worker(port, stream, &jobs, &done, &reqs))
        })
        .collect();
    drop(done_tx);
    let start = Instant::now() + Duration::from_millis(50);
    let lateness = schedule(&job_tx, start, rate, total);
    drop(job_tx);
    let results: Vec<Done> = done_rx.iter().collect();
    let elapsed = start.elapsed();
    for w in workers {
        let _ = w.join();
    }
    println!("{}", report(total, reqs.len(), &results, &lateness, elapsed));
}

/// The raw requests, one per key.
fn requests(args: &Args, port: u16) -> Vec<Vec<u8>> {
    let offset: usize = args.num("offset", 0);
    let count: usize = args.num("count", 0);
    let path = args.get("path", "/private/x");
    let header = args.get("header", "X-API-Key");
    let text = std::fs::read_to_string(args.need("keys"))
        .unwrap_or_else(|e| fail(&format!("--keys: {e}")));
    let keys: Vec<Vec<u8>> = text
        .lines()
        .skip(offset)
        .take(count)
        .map(|k| {
            format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{header}: {k}\r\n\r\n")
                .into_bytes()
        })
        .collect();
    if keys.is_empty() {
        fail("no keys");
    }
    keys
}

fn connect(port: u16) -> BufReader<TcpStream> {
    let stream = TcpStream::connect(("127.0.0.1", port))
        .unwrap_or_else(|e| fail(&format!("connect 127.0.0.1:{port}: {e}")));
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    BufReader::new(stream)
}

/// Hands request `i` to the connections at its due time; returns how late each hand-over was.
fn schedule(jobs: &Sender<Job>, start: Instant, rate: f64, total: usize) -> Vec<Duration> {
    let mut late = Vec::with_capacity(total);
    for i in 0..total {
        let due = start + Duration::from_secs_f64(i as f64 / rate);
        let now = Instant::now();
        if due > now {
            thread::sleep(due - now);
        }
        late.push(Instant::now().saturating_duration_since(due));
        if jobs.send((i, due)).is_err() {
            break;
        }
    }
    late
}

/// One keep-alive connection: takes the next due request, sends it, reads the whole answer.
fn worker(
    port: u16,
    mut conn: BufReader<TcpStream>,
    jobs: &Mutex<Receiver<Job>>,
    done: &Sender<Done>,
    reqs: &[Vec<u8>],
) {
    loop {
        let next = jobs.lock().map(|rx| rx.recv());
        let Ok(Ok((i, due))) = next else { return };
        let wrote = Instant::now();
        let status = exchange(&mut conn, &reqs[i % reqs.len()]);
        let end = Instant::now();
        if status.is_none() {
            conn = connect(port);
        }
        let from_due = end - due;
        let from_write = end - wrote;
        if done.send(Done { status, from_due, from_write }).is_err() {
            return;
        }
    }
}

/// Writes one request and reads its answer; `None` on any error or a server that closes.
fn exchange(conn: &mut BufReader<TcpStream>, req: &[u8]) -> Option<u16> {
    conn.get_mut().write_all(req).ok()?;
    let mut line = String::new();
    conn.read_line(&mut line).ok()?;
    let status: u16 = line.get(9..12)?.parse().ok()?;
    let (mut length, mut close) = (0usize, false);
    loop {
        line.clear();
        conn.read_line(&mut line).ok()?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        let value = value.trim();
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = value.parse().ok()?,
            "transfer-encoding" => return None,
            "connection" => close = value.eq_ignore_ascii_case("close"),
            _ => {}
        }
    }
    let mut body = vec![0; length];
    conn.read_exact(&mut body).ok()?;
    (!close).then_some(status)
}

/// The JSON line: counts, statuses and percentiles in milliseconds.
fn report(total: usize, keys: usize, done: &[Done], late: &[Duration], elapsed: Duration) -> String {
    let mut codes = std::collections::BTreeMap::<String, usize>::new();
    for d in done.iter().filter_map(|d| d.status) {
        *codes.entry(d.to_string()).or_default() += 1;
    }
    let ok: Vec<&Done> = done.iter().filter(|d| d.status.is_some()).collect();
    let due = sorted(ok.iter().map(|d| d.from_due));
    let wire = sorted(ok.iter().map(|d| d.from_write));
    let late = sorted(late.iter().copied());
    serde_json::json!({
        "sent": total, "done": ok.len(), "codes": codes, "errors": done.len() - ok.len(),
        "unfinished": total - done.len(), "distinct_keys": total.min(keys),
        "seconds": elapsed.as_secs_f64(), "rps": ok.len() as f64 / elapsed.as_secs_f64(),
        "p50_ms": pct(&due, 50.0), "p90_ms": pct(&due, 90.0), "p99_ms": pct(&due, 99.0),
        "p999_ms": pct(&due, 99.9), "max_ms": pct(&due, 100.0),
        "p50_write_ms": pct(&wire, 50.0), "p99_write_ms": pct(&wire, 99.0),
        "late_p99_ms": pct(&late, 99.0), "late_max_ms": pct(&late, 100.0),
    })
    .to_string()
}

fn sorted(xs: impl Iterator<Item = Duration>) -> Vec<Duration> {
    let mut v: Vec<Duration> = xs.collect();
    v.sort_unstable();
    v
}

/// The nearest-rank percentile, in milliseconds.
fn pct(xs: &[Duration], p: f64) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0 * xs.len() as f64).ceil() as usize).clamp(1, xs.len());
    xs[rank - 1].as_secs_f64() * 1000.0
}
