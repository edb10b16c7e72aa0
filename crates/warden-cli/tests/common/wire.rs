//! Raw HTTP/1.1 on the wire, for the test upstream and the streaming clients: message heads,
//! bodies framed by length, by chunks or by the end of the stream, a byte pattern that lets
//! either end check a large body without keeping it, and WebSocket frames.

use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// A message head: the start line and the field lines, names lowercased, in wire order.
#[derive(Debug, Clone)]
pub struct Head {
    pub start: String,
    pub headers: Vec<(String, String)>,
}

/// How a body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    Length(u64),
    Chunked,
    UntilEof,
}

impl Head {
    /// The first value of a header.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.all(name).into_iter().next()
    }

    /// Every value of a header, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Whether a comma-separated header names `token` (case-insensitive).
    pub fn lists(&self, name: &str, token: &str) -> bool {
        self.all(name)
            .iter()
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }

    /// The status of a response head.
    pub fn status(&self) -> u16 {
        self.start
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("not a status line: {:?}", self.start))
    }

    /// The framing of a request body (none is an empty body).
    pub fn request_framing(&self) -> Framing {
        self.framing(Framing::Length(0))
    }

    /// The framing of the body of a response to a request that was not `HEAD`.
    pub fn response_framing(&self) -> Framing {
        match self.status() {
            100..=199 | 204 | 304 => Framing::Length(0),
            _ => self.framing(Framing::UntilEof),
        }
    }

    fn framing(&self, otherwise: Framing) -> Framing {
        if self.lists("transfer-encoding", "chunked") {
            return Framing::Chunked;
        }
        match self.get("content-length") {
            Some(n) => Framing::Length(n.trim().parse().expect("Content-Length")),
            None => otherwise,
        }
    }
}

/// Reads one head; `None` at a clean end of stream before it.
pub fn read_head(r: &mut impl BufRead) -> io::Result<Option<Head>> {
    let mut start = String::new();
    while start.trim().is_empty() {
        start.clear();
        if r.read_line(&mut start)? == 0 {
            return Ok(None);
        }
    }
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').ok_or(io::ErrorKind::InvalidData)?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let start = start.trim_end_matches(['\r', '\n']).to_owned();
    Ok(Some(Head { start, headers }))
}

/// Reads a body, handing each piece to `sink`; returns its length.
pub fn read_body(
    r: &mut impl BufRead,
    framing: Framing,
    mut sink: impl FnMut(&[u8]),
) -> io::Result<u64> {
    match framing {
        Framing::Length(n) => copy_n(r, n, &mut sink).map(|()| n),
        Framing::UntilEof => {
            let mut total = 0;
            let mut buf = vec![0; 64 * 1024];
            loop {
                let k = r.read(&mut buf)?;
                if k == 0 {
                    return Ok(total);
                }
                sink(&buf[..k]);
                total += k as u64;
            }
        }
        Framing::Chunked => read_chunks(r, &mut sink),
    }
}

fn read_chunks(r: &mut impl BufRead, sink: &mut impl FnMut(&[u8])) -> io::Result<u64> {
    let mut total = 0;
    loop {
        let mut line = String::new();
        r.read_line(&mut line)?;
        let size = line.split(';').next().unwrap_or("").trim();
        let size = u64::from_str_radix(size, 16).map_err(|_| io::ErrorKind::InvalidData)?;
        if size == 0 {
            // Trailer fields, then the empty line.
            while !matches!(read_line(r)?.as_str(), "" | "\r\n" | "\n") {}
            return Ok(total);
        }
        copy_n(r, size, sink)?;
        total += size;
        read_line(r)?;
    }
}

fn read_line(r: &mut impl BufRead) -> io::Result<String> {
    let mut line = String::new();
    r.read_line(&mut line)?;
    Ok(line)
}

fn copy_n(r: &mut impl BufRead, n: u64, sink: &mut impl FnMut(&[u8])) -> io::Result<()> {
    let mut left = n;
    let mut buf = vec![0; 64 * 1024];
    while left > 0 {
        let want = usize::try_from(left.min(buf.len() as u64)).unwrap();
        let k = r.read(&mut buf[..want])?;
        if k == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        sink(&buf[..k]);
        left -= k as u64;
    }
    Ok(())
}

/// Byte `i` of every large test body.
pub fn pattern_byte(i: u64) -> u8 {
    u8::try_from(i % 251).unwrap()
}

/// Checks pieces of a body against the pattern as they arrive.
#[derive(Debug, Default)]
pub struct PatternCheck {
    pub seen: u64,
    pub first_mismatch: Option<u64>,
}

impl PatternCheck {
    pub fn feed(&mut self, piece: &[u8]) {
        for (k, b) in piece.iter().enumerate() {
            let i = self.seen + k as u64;
            if self.first_mismatch.is_none() && *b != pattern_byte(i) {
                self.first_mismatch = Some(i);
            }
        }
        self.seen += piece.len() as u64;
    }
}

/// Writes `total` pattern bytes, 64 KiB at a time, as chunks when `chunked`.
pub fn write_pattern(w: &mut impl Write, total: u64, chunked: bool) -> io::Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut sent = 0;
    while sent < total {
        let n = usize::try_from((total - sent).min(buf.len() as u64)).unwrap();
        for (k, b) in buf[..n].iter_mut().enumerate() {
            *b = pattern_byte(sent + k as u64);
        }
        if chunked {
            write!(w, "{n:x}\r\n")?;
        }
        w.write_all(&buf[..n])?;
        if chunked {
            w.write_all(b"\r\n")?;
        }
        sent += n as u64;
    }
    if chunked {
        w.write_all(b"0\r\n\r\n")?;
    }
    w.flush()
}

/// A connection with a generous read timeout.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    s
}

/// Reads a whole response (not to a `HEAD`).
pub fn read_response(s: TcpStream) -> io::Result<(Head, Vec<u8>)> {
    let mut r = BufReader::new(s);
    let head = read_head(&mut r)?.ok_or(io::ErrorKind::UnexpectedEof)?;
    let mut body = Vec::new();
    read_body(&mut r, head.response_framing(), |p| {
        body.extend_from_slice(p)
    })?;
    Ok((head, body))
}

/// POSTs `n` pattern bytes as a chunked body, generated while sending; the response.
pub fn upload(addr: SocketAddr, target: &str, n: u64) -> (Head, Vec<u8>) {
    let mut s = connect(addr);
    let head = format!(
        "POST {target} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/octet-stream\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    let sent = s
        .write_all(head.as_bytes())
        .and_then(|()| write_pattern(&mut s, n, true));
    let answer = read_response(s);
    match (sent, answer) {
        (Ok(()), Ok(answer)) => answer,
        (sent, answer) => panic!("upload of {n} bytes: sending {sent:?}, answer {answer:?}"),
    }
}

/// GETs `target`, checking the body against the pattern as it arrives (nothing is kept).
pub fn download(addr: SocketAddr, target: &str) -> (Head, PatternCheck) {
    let mut s = connect(addr);
    write!(
        s,
        "GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut r = BufReader::new(s);
    let head = read_head(&mut r).unwrap().expect("no answer");
    let mut check = PatternCheck::default();
    read_body(&mut r, head.response_framing(), |p| check.feed(p)).unwrap();
    (head, check)
}

/// The peak resident set size of a process (`VmHWM`), in KiB.
pub fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmHWM in /proc/{pid}/status"))
}

/// A client-to-server WebSocket text frame (masked, RFC 6455 §5.3) carrying `text`.
pub fn masked_text_frame(text: &str) -> Vec<u8> {
    let mask = [0x37, 0xfa, 0x21, 0x3d];
    let len = u8::try_from(text.len()).ok().filter(|l| *l < 126).unwrap();
    let mut frame = vec![0x81, 0x80 | len];
    frame.extend_from_slice(&mask);
    frame.extend(text.bytes().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    frame
}
