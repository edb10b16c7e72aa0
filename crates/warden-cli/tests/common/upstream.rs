//! A test upstream for proxy mode: plain threads and raw HTTP/1.1 with keep-alive, counting
//! and recording every request it receives. Routes go by the end of the path, so every rule
//! prefix reaches them (`/open/upload`, `/admin/status/401`, …):
//!
//! - `…/status/401`, `…/status/403`: the upstream's own denial, with its own challenge;
//! - `…/slow`: answers after [`SLOW`];
//! - `…/upload`: reads the body, answers `{"bytes": n, "pattern_ok": bool}`;
//! - `…/download?bytes=N`: N pattern bytes;
//! - `…/hop`: hop-by-hop response headers;
//! - `…/ws`: a WebSocket handshake, then every byte echoed back;
//! - anything else: 200 with JSON of the request line, every header and the body.

use std::io::{self, BufRead, BufReader, Read as _, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use serde_json::json;

use super::wire::{self, Head, PatternCheck};

/// How long `…/slow` waits before answering.
pub const SLOW: Duration = Duration::from_secs(5);

/// The upstream's own 401 challenge.
pub const UPSTREAM_CHALLENGE: &str = r#"Bearer realm="upstream""#;
/// The upstream's own 403 challenge.
pub const UPSTREAM_SCOPE_CHALLENGE: &str =
    r#"Bearer realm="upstream", error="insufficient_scope", scope="upstream:write""#;
/// The upstream's 401 and 403 bodies.
pub const UPSTREAM_401_BODY: &str = "{\"upstream\":\"unauthorized\"}";
pub const UPSTREAM_403_BODY: &str = "{\"upstream\":\"forbidden\"}";

/// One request as the upstream received it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
}

#[derive(Debug, Default)]
struct State {
    seen: Mutex<Vec<Seen>>,
    connections: AtomicUsize,
}

/// A running test upstream; its threads end with the test process.
#[derive(Debug, Clone)]
pub struct Upstream {
    pub addr: SocketAddr,
    state: Arc<State>,
}

impl Upstream {
    /// Listens on a fresh loopback port.
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State::default());
        let shared = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                shared.connections.fetch_add(1, Ordering::SeqCst);
                let state = shared.clone();
                std::thread::spawn(move || {
                    let _ = serve(stream, &state);
                });
            }
        });
        Self { addr, state }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many requests arrived.
    pub fn count(&self) -> usize {
        self.state.seen.lock().unwrap().len()
    }

    /// How many connections were accepted.
    pub fn connections(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }

    /// Every request so far, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap().clone()
    }
}

/// A parsed request line.
struct Request {
    method: String,
    target: String,
    head: Head,
}

impl Request {
    fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    fn query(&self, key: &str) -> Option<&str> {
        let query = self.target.split_once('?')?.1;
        query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v)
    }
}

fn serve(stream: TcpStream, state: &State) -> io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    while let Some(head) = wire::read_head(&mut reader)? {
        let mut parts = head.start.split(' ');
        let method = parts.next().unwrap_or("").to_owned();
        let target = parts.next().unwrap_or("").to_owned();
        state.seen.lock().unwrap().push(Seen {
            method: method.clone(),
            target: target.clone(),
            headers: head.headers.clone(),
        });
        let req = Request {
            method,
            target,
            head,
        };
        if req.path().ends_with("/ws") {
            return websocket(reader, out, &req);
        }
        route(&mut reader, &mut out, &req)?;
    }
    Ok(())
}

fn route(reader: &mut impl BufRead, out: &mut TcpStream, req: &Request) -> io::Result<()> {
    let path = req.path();
    if path.ends_with("/upload") {
        return upload(reader, out, req);
    }
    let body = read_all(reader, req)?;
    if path.ends_with("/status/401") {
        let h = [("WWW-Authenticate", UPSTREAM_CHALLENGE)];
        respond(
            out,
            req,
            "401 Unauthorized",
            &h,
            UPSTREAM_401_BODY.as_bytes(),
        )
    } else if path.ends_with("/status/403") {
        let h = [("WWW-Authenticate", UPSTREAM_SCOPE_CHALLENGE)];
        respond(out, req, "403 Forbidden", &h, UPSTREAM_403_BODY.as_bytes())
    } else if path.ends_with("/slow") {
        std::thread::sleep(SLOW);
        respond(out, req, "200 OK", &[], b"{\"late\":true}")
    } else if path.ends_with("/download") {
        download(out, req)
    } else if path.ends_with("/hop") {
        let h = [
            ("Connection", "X-Hop"),
            ("X-Hop", "1"),
            ("Keep-Alive", "timeout=5"),
            ("X-Keep", "yes"),
        ];
        respond(out, req, "200 OK", &h, b"{\"hop\":true}")
    } else {
        respond(out, req, "200 OK", &[], echo(req, &body).as_bytes())
    }
}

fn read_all(reader: &mut impl BufRead, req: &Request) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    wire::read_body(reader, req.head.request_framing(), |p| {
        body.extend_from_slice(p);
    })?;
    Ok(body)
}

/// JSON of the request line, the headers in wire order and the body.
fn echo(req: &Request, body: &[u8]) -> String {
    let headers: Vec<[&str; 2]> = req
        .head
        .headers
        .iter()
        .map(|(n, v)| [n.as_str(), v.as_str()])
        .collect();
    json!({
        "method": req.method,
        "target": req.target,
        "request_line": req.head.start,
        "headers": headers,
        "body": String::from_utf8_lossy(body),
        "body_length": body.len(),
    })
    .to_string()
}

/// Writes a response with `Content-Length`; no body after `HEAD`.
fn respond(
    out: &mut impl Write,
    req: &Request,
    status: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {status}\r\nContent-Type: application/json\r\n");
    for (n, v) in headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    out.write_all(head.as_bytes())?;
    if req.method != "HEAD" {
        out.write_all(body)?;
    }
    out.flush()
}

fn upload(reader: &mut impl BufRead, out: &mut TcpStream, req: &Request) -> io::Result<()> {
    let mut check = PatternCheck::default();
    let n = wire::read_body(reader, req.head.request_framing(), |p| check.feed(p))?;
    let body = json!({ "bytes": n, "pattern_ok": check.first_mismatch.is_none() });
    respond(out, req, "200 OK", &[], body.to_string().as_bytes())
}

fn download(out: &mut TcpStream, req: &Request) -> io::Result<()> {
    let n: u64 = req.query("bytes").and_then(|b| b.parse().ok()).unwrap_or(0);
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {n}\r\n\r\n"
    );
    out.write_all(head.as_bytes())?;
    if req.method == "HEAD" {
        return out.flush();
    }
    wire::write_pattern(out, n, false)
}

/// `Sec-WebSocket-Accept` for a key (RFC 6455 §4.2.2).
pub fn websocket_accept(key: &str) -> String {
    let mut input = key.trim().as_bytes().to_vec();
    input.extend_from_slice(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, &input);
    base64::engine::general_purpose::STANDARD.encode(digest.as_ref())
}

/// Answers a handshake with 101 and echoes bytes until the peer closes; refuses (400) a
/// request that lost its upgrade headers on the way.
fn websocket(
    mut reader: BufReader<TcpStream>,
    mut out: TcpStream,
    req: &Request,
) -> io::Result<()> {
    let h = &req.head;
    let key = h.get("sec-websocket-key");
    let upgrade = h.lists("connection", "upgrade") && h.lists("upgrade", "websocket");
    let (Some(key), true, Some("13")) = (key, upgrade, h.get("sec-websocket-version")) else {
        return respond(
            &mut out,
            req,
            "400 Bad Request",
            &[],
            b"{\"handshake\":false}",
        );
    };
    let head = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n\r\n",
        websocket_accept(key)
    );
    out.write_all(head.as_bytes())?;
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        out.write_all(&buf[..n])?;
    }
}
