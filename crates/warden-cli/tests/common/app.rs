//! The app behind the front proxies in the integration matrix: a std listener answering every
//! request with 200 and JSON naming the identity headers it received, keeping every request.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Map, Value};

use super::Response;

/// The identity headers warden sets and the app reports back.
pub const IDENTITY: [&str; 4] = [
    "x-auth-subject",
    "x-auth-roles",
    "x-auth-scopes",
    "x-auth-method",
];

/// One request as the app received it (header names lowercased).
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
}

/// The app behind the proxy: answers every request with 200 and JSON naming the method, the
/// target and every value of each identity header it received; keeps every request.
pub struct App {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl App {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        // The thread ends with the test process; the port closes with it.
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let sink = sink.clone();
                std::thread::spawn(move || serve(stream, &sink));
            }
        });
        Self { addr, seen }
    }

    /// How many requests reached the app so far.
    pub fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn serve(stream: TcpStream, seen: &Mutex<Vec<Seen>>) {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let Some(request) = read_request(&mut reader) else {
        return;
    };
    let body = report(&request).to_string();
    seen.lock().unwrap().push(request);
    let answer = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = (&stream).write_all(answer.as_bytes());
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Seen> {
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).ok()?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        let (n, v) = l.split_once(':')?;
        headers.push((n.trim().to_ascii_lowercase(), v.trim().to_owned()));
    }
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<u64>().ok())
        .unwrap_or(0);
    std::io::copy(&mut reader.by_ref().take(length), &mut std::io::sink()).ok()?;
    Some(Seen {
        method,
        target,
        headers,
    })
}

/// `{"method", "target", "x-auth-subject": [values…], …}`.
fn report(request: &Seen) -> Value {
    let mut doc = Map::new();
    doc.insert("method".into(), request.method.clone().into());
    doc.insert("target".into(), request.target.clone().into());
    for name in IDENTITY {
        let values: Vec<Value> = request
            .headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| Value::from(v.clone()))
            .collect();
        doc.insert(name.into(), Value::Array(values));
    }
    Value::Object(doc)
}

/// What the app reported seeing for one identity header, from its JSON answer: every value,
/// with an absent header as no value at all.
pub fn app_saw(r: &Response, header: &str) -> Vec<String> {
    let doc = r.json();
    assert!(doc["target"].is_string(), "not the app's answer: {r:#?}");
    doc[header]
        .as_array()
        .unwrap_or_else(|| panic!("no {header} in the app's answer: {r:#?}"))
        .iter()
        .map(|v| v.as_str().unwrap_or_default().to_owned())
        .collect()
}
