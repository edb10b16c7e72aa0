//! Resource limits (issue 6): a stalled or huge JWKS URL, slowloris, floods of unique invalid
//! credentials, and oversized request heads. Figures are printed with `--nocapture`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::jwks::{JwksServer, Mode};
use common::tokens::{b64, claims, signing_input, token};
use common::wire::{Head, connect, peak_rss_kib, read_body, read_head};
use common::*;

/// Bounds on warden's peak resident set (`VmHWM`), in KiB.
const PEAK_KIB: u64 = 64 * 1024;
const FLOOD_GROWTH_KIB: u64 = 16 * 1024;
/// Requests per flood.
const FLOOD: usize = 20_000;

fn url_config(url: &str) -> String {
    config_with_jwks(&format!(
        "jwks_url = \"{url}\"\ndangerous_allow_http_jwks_url = true\nrefresh_seconds = 10"
    ))
}

/// The standard config with throttling effectively off.
fn unthrottled_config() -> String {
    let limits = "[limits]\nfailures_per_ip = 100000000\nfailures_per_user = 100000000\n";
    replace(
        &standard_config(),
        "[network]\n",
        &format!("{limits}[network]\n"),
    )
}

/// Runs `f` and returns its result with how long it took.
fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let value = f();
    (value, start.elapsed())
}

fn random_b64(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    aws_lc_rs::rand::fill(&mut buf).unwrap();
    b64(buf)
}

fn assert_unavailable(what: &str, r: &Response) {
    assert_eq!(r.status, 503, "{what}: {r:#?}");
    let retry = r.header("retry-after");
    assert!(
        retry.is_some_and(|v| v.parse::<u32>().is_ok()),
        "{what}: {r:#?}"
    );
    assert!(r.challenges().is_empty(), "{what}: {r:#?}");
    assert_eq!(r.header("cache-control"), Some("no-store"), "{what}");
    assert_eq!(r.header("content-type"), Some(PROBLEM), "{what}");
    assert_eq!(r.code(), "unavailable", "{what}");
}

fn assert_unauthenticated(what: &str, r: &Response) {
    assert_eq!(r.status, 401, "{what}: {r:#?}");
    assert_eq!(r.challenges(), [BEARER, BASIC], "{what}");
    assert_eq!(r.header("content-type"), Some(PROBLEM), "{what}");
    assert_eq!(r.code(), "unauthenticated", "{what}");
}

/// A stalled JWKS URL costs one fetch timeout at start and blocks nobody afterwards.
#[test]
fn stalled_jwks_url_blocks_neither_start_nor_requests() {
    let jwks = JwksServer::start(Mode::Stall);
    let env = Env::new(&url_config(&jwks.url));
    let spawned = Instant::now();
    let warden = env.serve();
    let r = warden.get("/health", &[]);
    let first = spawned.elapsed();
    assert_eq!(r.status, 200, "{r:#?}");
    assert!(
        first < Duration::from_secs(8),
        "first answer after {first:?}"
    );
    let token = bearer(&token("alice", &["admin"], ""));
    let check_all = |label: &str| {
        let (r, token_took) = timed(|| warden.get("/private/x", &[("Authorization", &token)]));
        assert_unavailable(&format!("{label}: valid token"), &r);
        assert!(
            token_took < Duration::from_secs(1),
            "{label}: {token_took:?}"
        );
        let r = warden.get("/private/x", &[("Authorization", "Bearer abc.def.ghi")]);
        assert_unavailable(&format!("{label}: bad token"), &r);
        let (r, took) = timed(|| warden.get("/private/x", &[]));
        assert_unauthenticated(&format!("{label}: no credentials"), &r);
        assert!(took < Duration::from_secs(1), "{label}: took {took:?}");
        took.max(token_took)
    };
    check_all("after start");
    // The refresh loop (every 10 s) starts another fetch that stalls for 5 s.
    let before = jwks.hits();
    poll_until(Duration::from_secs(15), "a JWKS refresh", || {
        (jwks.hits() > before).then_some(())
    });
    let stuck = Instant::now();
    let mut slowest = Duration::ZERO;
    while stuck.elapsed() < Duration::from_secs(3) {
        slowest = slowest.max(check_all("fetch stalled"));
        std::thread::sleep(Duration::from_millis(200));
    }
    eprintln!("stall: first answer {first:?} after spawn; slowest answer while stuck {slowest:?}");
}

/// A 50 MB JWKS document is refused at 1 MiB without being buffered; tokens get 503.
#[test]
fn huge_jwks_document_is_refused_within_bounded_memory() {
    let jwks = JwksServer::start(Mode::Huge);
    let warden = Env::new(&url_config(&jwks.url)).serve();
    // A request counts once its answer is over (the writer sees the hang-up).
    poll_until(Duration::from_secs(10), "the first JWKS fetch", || {
        (jwks.hits() >= 1).then_some(())
    });
    let token = bearer(&token("alice", &["admin"], ""));
    let r = warden.get("/private/x", &[("Authorization", &token)]);
    assert_unavailable("valid token, huge JWKS", &r);
    assert!(warden.log().contains("1 MiB"), "{}", warden.log());
    let at_start = peak_rss_kib(warden.pid());
    // One more refusal by the refresh loop must not add up.
    let before = jwks.hits();
    poll_until(Duration::from_secs(15), "a JWKS refresh", || {
        (jwks.hits() > before).then_some(())
    });
    std::thread::sleep(Duration::from_millis(500));
    let r = warden.get("/private/x", &[("Authorization", &token)]);
    assert_unavailable("valid token, after a refresh", &r);
    let peak = peak_rss_kib(warden.pid());
    eprintln!("huge JWKS: VmHWM {at_start} KiB after start, {peak} KiB after a refresh");
    assert!(peak < PEAK_KIB, "VmHWM {peak} KiB");
}

/// Slow connections that drip a request head are closed by the header timeout (10 s) while
/// other clients are served.
#[test]
fn slowloris_connections_are_closed_and_others_served() {
    let warden = Env::new(&standard_config()).serve();
    let start = Instant::now();
    let mut slow: Vec<(TcpStream, Option<Duration>)> = (0..10)
        .map(|_| {
            let mut s = TcpStream::connect(warden.addr).unwrap();
            s.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
                .unwrap();
            s.set_nonblocking(true).unwrap();
            (s, None)
        })
        .collect();
    let mut slowest_other = Duration::ZERO;
    while slow.iter().any(|(_, closed)| closed.is_none()) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "still open after 20 s"
        );
        for (s, closed) in slow.iter_mut().filter(|(_, c)| c.is_none()) {
            if drip(s) {
                *closed = Some(start.elapsed());
            }
        }
        let (r, took) = timed(|| warden.get("/health", &[]));
        assert_eq!(r.status, 200, "{r:#?}");
        slowest_other = slowest_other.max(took);
        std::thread::sleep(Duration::from_millis(300));
    }
    let times: Vec<Duration> = slow.iter().filter_map(|(_, c)| *c).collect();
    eprintln!("slowloris: closed after {times:?}; slowest other request {slowest_other:?}");
    assert!(
        times.iter().all(|t| *t < Duration::from_secs(12)),
        "{times:?}"
    );
    assert!(slowest_other < Duration::from_secs(1), "{slowest_other:?}");
}

/// Sends two more bytes of a header value; true once the server has closed or answered
/// (an answer must be 408).
fn drip(s: &mut TcpStream) -> bool {
    if s.write_all(b"ab").is_err() {
        return true;
    }
    let mut buf = [0u8; 512];
    match s.read(&mut buf) {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => false,
        Ok(0) | Err(_) => true,
        Ok(n) => {
            let text = String::from_utf8_lossy(&buf[..n]);
            assert!(
                text.starts_with("HTTP/1.1 408"),
                "answer to a slow head: {text:?}"
            );
            true
        }
    }
}

/// One keep-alive connection, reopened when the server closes it.
struct KeepAlive {
    addr: SocketAddr,
    conn: Option<BufReader<TcpStream>>,
}

impl KeepAlive {
    fn new(addr: SocketAddr) -> Self {
        Self { addr, conn: None }
    }

    /// `GET /private/x` with one extra header: the head and the body.
    fn get(&mut self, name: &str, value: &str) -> (Head, String) {
        let request =
            format!("GET /private/x HTTP/1.1\r\nHost: localhost\r\n{name}: {value}\r\n\r\n");
        for _ in 0..2 {
            if let Some(answer) = self.try_get(&request) {
                return answer;
            }
            self.conn = None;
        }
        panic!("no answer on a fresh connection");
    }

    fn try_get(&mut self, request: &str) -> Option<(Head, String)> {
        let addr = self.addr;
        let conn = self
            .conn
            .get_or_insert_with(|| BufReader::new(connect(addr)));
        conn.get_mut().write_all(request.as_bytes()).ok()?;
        let head = read_head(conn).ok()??;
        let mut body = Vec::new();
        read_body(conn, head.response_framing(), |p| body.extend_from_slice(p)).ok()?;
        if head.lists("connection", "close") {
            self.conn = None;
        }
        Some((head, String::from_utf8_lossy(&body).into_owned()))
    }
}

/// `n` requests, each with the header `make()` returns, all answered 401 `invalid_token`;
/// VmHWM and VmRSS before (after a warm-up) and after must grow by less than the bound.
fn flood(warden: &Warden, n: usize, make: impl Fn() -> (&'static str, String)) {
    let mut client = KeepAlive::new(warden.addr);
    let mut one = |i: usize| {
        let (name, value) = make();
        let (head, body) = client.get(name, &value);
        assert_eq!(head.status(), 401, "request {i}: {head:#?} {body}");
        let challenges = head.all("www-authenticate");
        assert_eq!(challenges, [BEARER_INVALID, BASIC], "request {i}");
        assert_eq!(head.get("content-type"), Some(PROBLEM), "request {i}");
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["code"], "invalid_token", "request {i}: {body}");
    };
    (0..500).for_each(&mut one);
    let pid = warden.pid();
    let before = (peak_rss_kib(pid), rss_kib(pid));
    let ((), took) = timed(|| (0..n).for_each(&mut one));
    let after = (peak_rss_kib(pid), rss_kib(pid));
    eprintln!("flood of {n}: {took:?}; (VmHWM, VmRSS) KiB {before:?} before, {after:?} after");
    assert!(
        after.0 - before.0 < FLOOD_GROWTH_KIB,
        "VmHWM {before:?} → {after:?}"
    );
    let rss_growth = after.1.saturating_sub(before.1);
    assert!(
        rss_growth < FLOOD_GROWTH_KIB,
        "VmRSS {before:?} → {after:?}"
    );
}

/// The current resident set size of a process (`VmRSS`), in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmRSS in /proc/{pid}/status"))
}

/// A well-formed ES256 JWT with the known kid, unique claims (a 1 KiB random `jti`) and a
/// random signature: about 2 KiB, invalid.
fn unique_invalid_jwt() -> String {
    let header = serde_json::json!({ "alg": "ES256", "typ": "JWT", "kid": "es-1" });
    let mut body = claims("flood", &["admin"], "");
    body["jti"] = random_b64(1024).into();
    format!("{}.{}", signing_input(&header, &body), random_b64(64))
}

/// 20 000 unique invalid tokens: every one 401, and nothing remembered without bound.
#[test]
fn flood_of_unique_invalid_tokens_keeps_memory_bounded() {
    let warden = Env::new(&unthrottled_config()).serve();
    flood(&warden, FLOOD, || {
        ("Authorization", bearer(&unique_invalid_jwt()))
    });
}

/// 20 000 unique unknown API keys (1 KiB each) with throttling off: the same bound.
#[test]
fn flood_of_unique_unknown_api_keys_keeps_memory_bounded() {
    let warden = Env::new(&unthrottled_config()).serve();
    flood(&warden, FLOOD, || {
        ("X-API-Key", format!("wdn_{}", random_b64(768)))
    });
}

/// A credential header over 8 KiB gets warden's 431; a 100 KiB head gets hyper's 431 or a
/// closed connection, and warden keeps serving.
#[test]
fn oversized_request_heads_are_refused() {
    let warden = Env::new(&standard_config()).serve();
    let big = format!("Bearer {}", "a".repeat(9 * 1024));
    let r = warden.get("/private/x", &[("Authorization", &big)]);
    assert_eq!(r.status, 431, "{r:#?}");
    assert_eq!(r.header("content-type"), Some(PROBLEM));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.code(), "header_too_large");
    assert!(!r.body.contains("aaaa"), "the header is echoed");
    let answer = huge_head(warden.addr, 100 * 1024);
    eprintln!("100 KiB head: {:?}", answer.lines().next());
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 431 "),
        "answer to a 100 KiB head: {answer:?}"
    );
    for _ in 0..3 {
        assert_eq!(warden.get("/health", &[]).status, 200);
    }
    assert_unauthenticated("after the big heads", &warden.get("/private/x", &[]));
}

/// Sends a head with an Authorization of `size` bytes; what came back before the close.
fn huge_head(addr: SocketAddr, size: usize) -> String {
    let mut s = connect(addr);
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    let head = format!(
        "GET /private/x HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\n\r\n",
        "a".repeat(size)
    );
    // The server may close before reading it all; a failed write is fine.
    let _ = s.write_all(head.as_bytes());
    let mut raw = Vec::new();
    let started = Instant::now();
    let _ = s.read_to_end(&mut raw);
    assert!(
        started.elapsed() < Duration::from_secs(12),
        "the connection stayed open"
    );
    String::from_utf8_lossy(&raw).into_owned()
}
