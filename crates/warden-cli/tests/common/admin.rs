//! The admin listener in the tests: its address from the `admin listener is up` log line,
//! plain GETs, and `/metrics` scraped through `tests/metrics/parse.py` (the reference
//! Prometheus parser), so a metric the official client cannot read fails the test.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::{Response, Warden, poll_until, send};

/// The Prometheus text content type of `/metrics`.
pub const METRICS_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The workspace root (`CARGO_MANIFEST_DIR/../..`).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("..")
}

/// The admin address in one JSON log line, when it is the `admin listener is up` line.
pub fn admin_listen(line: &str) -> Option<SocketAddr> {
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    let fields = v.get("fields")?;
    if fields.get("message")?.as_str()? != "admin listener is up" {
        return None;
    }
    fields.get("listen")?.as_str()?.parse().ok()
}

/// Waits (up to 10 s) for the server's `admin listener is up` line; its address.
pub fn admin_addr(warden: &Warden) -> SocketAddr {
    poll_until(Duration::from_secs(10), "the admin listener line", || {
        warden.log().lines().find_map(admin_listen)
    })
}

/// `GET path` on the admin listener.
pub fn get(admin: SocketAddr, path: &str) -> Response {
    send(admin, "GET", path, &[])
}

/// One sample of a scrape.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// Every sample of one scrape.
#[derive(Debug, Clone)]
pub struct Scrape {
    pub samples: Vec<Sample>,
}

impl Scrape {
    /// The value of the sample with exactly these labels (0 when absent: a counter that was
    /// never incremented may not be exported yet).
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.find(name, labels).map_or(0.0, |s| s.value)
    }

    /// The sample with exactly these labels.
    pub fn find(&self, name: &str, labels: &[(&str, &str)]) -> Option<&Sample> {
        let want: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.samples
            .iter()
            .find(|s| s.name == name && s.labels == want)
    }

    /// The sum over every sample of `name` whose labels include `labels`.
    pub fn sum(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.matching(name, labels).map(|s| s.value).sum()
    }

    /// Every sample of `name` whose labels include `labels`.
    pub fn matching<'a>(
        &'a self,
        name: &'a str,
        labels: &'a [(&'a str, &'a str)],
    ) -> impl Iterator<Item = &'a Sample> + 'a {
        self.samples.iter().filter(move |s| {
            s.name == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
    }

    /// True when some sample is named `name`.
    pub fn has(&self, name: &str) -> bool {
        self.samples.iter().any(|s| s.name == name)
    }
}

/// GET `/metrics`, checked to be 200 with the Prometheus content type, parsed.
pub fn scrape(admin: SocketAddr) -> Scrape {
    let r = get(admin, "/metrics");
    assert_eq!(r.status, 200, "/metrics: {r:#?}");
    assert_eq!(r.header("content-type"), Some(METRICS_TYPE), "{r:#?}");
    parse(&r.body)
}

/// Prometheus text parsed by `python3 tests/metrics/parse.py`.
pub fn parse(text: &str) -> Scrape {
    let script = workspace_root()
        .join("tests")
        .join("metrics")
        .join("parse.py");
    let mut child = Command::new("python3")
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("python3 {}: {e}", script.display()));
    let mut stdin = child.stdin.take().unwrap();
    let input = text.to_owned();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(
        out.status.success(),
        "parse.py refused the scrape: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let samples = json
        .as_array()
        .unwrap()
        .iter()
        .map(|s| Sample {
            name: s["name"].as_str().unwrap().to_owned(),
            labels: s["labels"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect(),
            value: match &s["value"] {
                serde_json::Value::String(v) => v.parse().unwrap_or(f64::NAN),
                v => v.as_f64().unwrap(),
            },
        })
        .collect();
    Scrape { samples }
}

/// The hex SHA-256 of a file, by `sha256sum`.
pub fn sha256_file(path: &std::path::Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    assert!(out.status.success(), "sha256sum {}", path.display());
    let text = String::from_utf8(out.stdout).unwrap();
    text.split_whitespace().next().unwrap().to_owned()
}

/// Sends `kill -SIG pid`.
pub fn signal(pid: u32, sig: &str) {
    let sent = Command::new("kill")
        .args([&format!("-{sig}"), &pid.to_string()])
        .status()
        .unwrap();
    assert!(sent.success(), "kill -{sig} {pid}");
}

/// The JSON log lines (`fields` of each) so far with this message.
pub fn log_lines(warden: &Warden, message: &str) -> Vec<serde_json::Value> {
    warden
        .log()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["fields"]["message"] == message)
        .collect()
}

/// The decision log's `fields` for a decision id (written asynchronously: waits up to 5 s).
pub fn logged(warden: &Warden, id: &str) -> serde_json::Value {
    let what = format!("the decision log line for {id}");
    poll_until(Duration::from_secs(5), &what, || {
        warden
            .log()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|v| v["fields"]["message"] == "decision" && v["fields"]["decision"] == id)
            .map(|v| v["fields"].clone())
    })
}
