//! User enumeration: an unknown user, a wrong password and a disabled account get the same
//! answer (status, headers but `date` and the decision id, body but the decision id) on every
//! endpoint and body format, and take the same time: ≥ 1 000 interleaved requests of each kind
//! over one keep-alive connection, medians within 10 % (figures printed; run with
//! `--nocapture`). The failed-attempt limits are raised so throttling does not answer first.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufReader, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::wire::{Head, read_body, read_head};
use common::*;

/// The three kinds of failed Basic login, in round-robin order.
const KINDS: [&str; 3] = ["unknown user", "wrong password", "disabled user"];

/// Requests of each kind in the timing test (`WARDEN_TIMING_REQUESTS` overrides).
const TIMING_REQUESTS: usize = 1000;

/// alice exists, dora is disabled (with the password sent), zed does not exist; the failure
/// limits are far out of reach.
fn server() -> Warden {
    let limits = "[limits]\nfailures_per_ip = 1000000\nfailures_per_user = 1000000\n[network]\n";
    let env = Env::new(&replace(&standard_config(), "[network]\n", limits));
    env.add_user("alice", "alice-right", &["admin"]);
    env.add_user("dora", "dora-right", &["admin"]);
    env.cli(&["user", "disable", "dora"], None).ok();
    env.serve()
}

fn credentials() -> [String; 3] {
    [
        basic("zed", "alice-right"),
        basic("alice", "wrong-password"),
        basic("dora", "dora-right"),
    ]
}

/// One HTTP/1.1 connection kept alive across requests.
struct KeepAlive {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl KeepAlive {
    fn open(addr: SocketAddr) -> Self {
        let writer = TcpStream::connect(addr).unwrap();
        writer.set_nodelay(true).unwrap();
        writer
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        Self {
            reader: BufReader::new(writer.try_clone().unwrap()),
            writer,
        }
    }

    /// Sends a request and reads the whole answer; the answer and the time it took.
    fn send(&mut self, method: &str, target: &str, headers: &[(&str, &str)]) -> (Response, f64) {
        let mut request = format!("{method} {target} HTTP/1.1\r\nHost: localhost\r\n");
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        let start = Instant::now();
        self.writer.write_all(request.as_bytes()).unwrap();
        let head: Head = read_head(&mut self.reader)
            .unwrap()
            .expect("connection closed");
        let mut body = Vec::new();
        if method != "HEAD" {
            read_body(&mut self.reader, head.response_framing(), |p| {
                body.extend_from_slice(p)
            })
            .unwrap();
        }
        let ms = start.elapsed().as_secs_f64() * 1000.0;
        let status = head.status();
        let response = Response {
            status,
            reason: head.start.splitn(3, ' ').nth(2).unwrap_or("").to_owned(),
            headers: head.headers,
            body: String::from_utf8(body).unwrap(),
        };
        (response, ms)
    }
}

/// A way of asking: its name, method, target and extra headers.
type View<'a> = (&'a str, &'a str, &'a str, Vec<(&'a str, &'a str)>);

/// The answers to the three kinds must not differ in anything but the date and decision id.
#[test]
fn failed_logins_get_identical_answers() {
    let warden = server();
    let creds = credentials();
    let mut conn = KeepAlive::open(warden.addr);
    let views: [View; 7] = [
        (
            "problem+json",
            "GET",
            "/admin/x",
            vec![("Accept", "application/json")],
        ),
        ("text", "GET", "/admin/x", vec![("Accept", "text/plain")]),
        ("no Accept", "GET", "/private/x", vec![]),
        ("HEAD", "HEAD", "/admin/x", vec![]),
        (
            "browser navigation",
            "GET",
            "/admin/x",
            vec![("Sec-Fetch-Mode", "navigate"), ("Accept", BROWSER_ACCEPT)],
        ),
        (
            "browser script",
            "GET",
            "/admin/x",
            vec![("Sec-Fetch-Dest", "empty")],
        ),
        (
            "nginx flavour",
            "GET",
            "/.warden/nginx",
            vec![("X-Original-URI", "/admin/x")],
        ),
    ];
    let mut compared = 0;
    for (view, method, target, extra) in &views {
        let answers: Vec<Response> = creds
            .iter()
            .map(|auth| {
                let mut h = extra.clone();
                h.push(("Authorization", auth));
                conn.send(method, target, &h).0
            })
            .collect();
        let first = &answers[0];
        assert!(
            matches!(first.status, 401 | 302),
            "{view}: {} {first:#?}",
            first.status
        );
        assert!(!first.decision().is_empty(), "{view}: no decision id");
        for (kind, r) in KINDS.iter().zip(&answers).skip(1) {
            let what = format!("{view}: {kind} vs {}", KINDS[0]);
            assert_eq!(r.status, first.status, "{what}");
            assert_eq!(r.reason, first.reason, "{what}");
            assert_eq!(stable_headers(r), stable_headers(first), "{what}");
            assert_eq!(stable_body(r), stable_body(first), "{what}");
            assert_ne!(
                r.decision(),
                first.decision(),
                "{what}: decision ids repeat"
            );
            compared += 1;
        }
    }
    eprintln!(
        "identical answers: {compared} comparisons over {} views",
        views.len()
    );
}

/// The `p`-th percentile (nearest rank) of sorted samples.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The three kinds take the same time: interleaved round-robin on one keep-alive connection,
/// so drifts in load touch all three alike; medians within 10 % of each other.
#[test]
fn failed_logins_take_the_same_time() {
    let warden = server();
    let creds = credentials();
    let n: usize = std::env::var("WARDEN_TIMING_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(TIMING_REQUESTS);
    let mut conn = KeepAlive::open(warden.addr);
    let mut send = |auth: &str| {
        let (r, ms) = conn.send("GET", "/private/x", &[("Authorization", auth)]);
        assert_eq!(r.status, 401, "{r:#?}");
        ms
    };
    // Warm-up: connection, caches, the argon2 dummy hash, the CPU's clock.
    for i in 0..30 {
        send(&creds[i % 3]);
    }
    let started = Instant::now();
    let mut samples: [Vec<f64>; 3] = Default::default();
    for i in 0..n * 3 {
        // Rotate the order every round so no kind always follows the same one.
        let kind = (i + i / 3) % 3;
        samples[kind].push(send(&creds[kind]));
    }
    let total = started.elapsed();
    let mut medians = [0.0; 3];
    for (k, s) in samples.iter_mut().enumerate() {
        s.sort_by(f64::total_cmp);
        medians[k] = percentile(s, 50.0);
        eprintln!(
            "timing {:<15} n={} p10={:.2} ms median={:.2} ms p90={:.2} ms",
            KINDS[k],
            s.len(),
            percentile(s, 10.0),
            medians[k],
            percentile(s, 90.0),
        );
    }
    let (lo, hi) = medians
        .iter()
        .fold((f64::MAX, 0.0f64), |(lo, hi), m| (lo.min(*m), hi.max(*m)));
    let spread = hi / lo - 1.0;
    eprintln!(
        "timing: {} requests in {:.1} s; medians spread {:.1} %",
        n * 3,
        total.as_secs_f64(),
        spread * 100.0
    );
    assert!(
        spread <= 0.10,
        "medians differ by {:.1} % (over 10 %): {medians:?}",
        spread * 100.0
    );
}
