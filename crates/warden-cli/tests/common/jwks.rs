//! A tiny JWKS server on a std listener: serves `tests/data/jwks.json`, answers 500, hangs
//! up, stalls, redirects, or streams a huge body, as told; counts every request; stopping it closes the
//! port and every stalled connection.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use super::data_file;

/// How the server answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// 200 with the test JWKS.
    Serve,
    /// 500 with a small body.
    Fail,
    /// Reads the request and closes the connection without an answer.
    HangUp,
    /// Reads the request and never answers, keeping the connection open until stopped.
    Stall,
    /// 200 with a 50 MB body, streamed in 64 KiB chunks until the client goes away.
    Huge,
    /// 302 to `http://127.0.0.1:PORT/jwks.json` (another server): must not be followed.
    RedirectTo(u16),
}

/// The size of the [`Mode::Huge`] body.
pub const HUGE_BYTES: usize = 50 * 1000 * 1000;

/// The running server.
pub struct JwksServer {
    pub url: String,
    mode: Arc<Mutex<Mode>>,
    hits: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl JwksServer {
    pub fn start(mode: Mode) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
        let mode = Arc::new(Mutex::new(mode));
        let hits = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let jwks = std::fs::read(data_file("jwks.json")).unwrap();
        let thread = {
            let (mode, hits, stop) = (mode.clone(), hits.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut stalled = Vec::new();
                while !stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let mode = *mode.lock().unwrap();
                            stalled.extend(answer(stream, mode, &jwks));
                            hits.fetch_add(1, Ordering::SeqCst);
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(10)),
                    }
                }
            })
        };
        Self {
            url,
            mode,
            hits,
            stop,
            thread: Some(thread),
        }
    }

    /// Changes how later requests are answered.
    pub fn set_mode(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    /// Requests answered so far.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    /// Stops the thread and closes the listening socket.
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Answers one request; a stalled connection is handed back to be kept open.
fn answer(mut stream: TcpStream, mode: Mode, jwks: &[u8]) -> Option<TcpStream> {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let (status, body): (&str, &[u8]) = match mode {
        Mode::Serve => ("200 OK", jwks),
        Mode::Fail => ("500 Internal Server Error", b"boom"),
        Mode::HangUp => return None,
        Mode::Stall => return Some(stream),
        Mode::Huge => {
            stream_huge(&mut stream);
            return None;
        }
        Mode::RedirectTo(port) => {
            let head = format!(
                "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:{port}/jwks.json\r\n\
                 Content-Length: 0\r\nConnection: close\r\n\r\n"
            );
            let _ = stream.write_all(head.as_bytes());
            return None;
        }
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
    None
}

/// A 200 announcing [`HUGE_BYTES`] of JSON (`{"keys":[` and spaces), written until done or
/// until the client stops reading.
fn stream_huge(stream: &mut TcpStream) {
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {HUGE_BYTES}\r\n\
         Connection: close\r\n\r\n{{\"keys\":["
    );
    if stream.write_all(head.as_bytes()).is_err() {
        return;
    }
    let chunk = [b' '; 64 * 1024];
    let mut left = HUGE_BYTES - "{\"keys\":[".len();
    while left > 0 {
        let n = left.min(chunk.len());
        if stream.write_all(&chunk[..n]).is_err() {
            return;
        }
        left -= n;
    }
}
