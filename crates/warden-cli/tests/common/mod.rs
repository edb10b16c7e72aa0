//! Shared harness for the end-to-end tests: temp dirs, the `warden` binary (server and CLI),
//! a raw HTTP/1.1 client, token minting, and a tiny local JWKS server.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(dead_code)] // every test crate uses a different part of the harness

pub mod admin;
pub mod app;
pub mod browser;
pub mod front;
pub mod h2c;
pub mod http;
pub mod jwks;
pub mod op;
pub mod proxied;
pub mod services;
pub mod shapes;
pub mod tokens;
pub mod upstream;
pub mod wire;

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use self::http::{Response, send, send_with_body};

/// The realm of every standard config.
pub const REALM: &str = "example";
/// `WWW-Authenticate` for a Bearer scheme without error.
pub const BEARER: &str = r#"Bearer realm="example""#;
/// `WWW-Authenticate` for Basic.
pub const BASIC: &str = r#"Basic realm="example", charset="UTF-8""#;
/// Bearer `invalid_token`, generic description.
pub const BEARER_INVALID: &str = r#"Bearer realm="example", error="invalid_token", error_description="the access token is invalid""#;
/// Bearer `invalid_token` for an expired token.
pub const BEARER_EXPIRED: &str = r#"Bearer realm="example", error="invalid_token", error_description="the access token expired""#;
/// Bearer `invalid_token` for a token not valid yet.
pub const BEARER_EARLY: &str = r#"Bearer realm="example", error="invalid_token", error_description="the access token is not valid yet""#;
/// Bearer `invalid_request` (400).
pub const BEARER_BAD_REQUEST: &str = r#"Bearer realm="example", error="invalid_request""#;
/// Bearer `insufficient_scope` for the orders rule.
pub const BEARER_SCOPE: &str =
    r#"Bearer realm="example", error="insufficient_scope", scope="orders:write""#;

/// Content types.
pub const PROBLEM: &str = "application/problem+json";
pub const HTML: &str = "text/html; charset=utf-8";
pub const TEXT: &str = "text/plain; charset=utf-8";

/// A browser's navigation `Accept`.
pub const BROWSER_ACCEPT: &str =
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8";

/// `crates/warden-cli/tests/data`.
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("data")
}

/// The absolute path of a file in `tests/data`.
pub fn data_file(name: &str) -> PathBuf {
    data_dir().join(name)
}

/// The JWT section used by most tests, with `jwks_file` pointing at `tests/data/jwks.json`.
pub fn jwt_section(source_line: &str) -> String {
    format!(
        "[authn.jwt]\n{source_line}\nissuer = \"https://idp.example\"\naudience = \"api\"\n\
         roles_claim = \"roles\"\nscopes_claim = \"scope\"\n"
    )
}

/// The config of the brief, with the JWKS line given (e.g. `jwks_file = "…"`).
pub fn config_with_jwks(source_line: &str) -> String {
    format!(
        r#"version = 1
[server]
listen = "127.0.0.1:0"
realm = "example"
{jwt}[authn.basic]
[authn.api_key]
header = "X-API-Key"
[network]
deny = ["203.0.113.0/24"]
trusted_proxies = ["127.0.0.1/32"]
[[rule]]
name = "health"
path = "/health"
allow = "anyone"
[[rule]]
name = "private"
path = "/private/**"
require = "authenticated"
[[rule]]
name = "admin"
path = "/admin/**"
require = {{ roles = ["admin"] }}
[[rule]]
name = "orders-write"
path = "/api/orders/**"
methods = ["POST", "PUT", "PATCH", "DELETE"]
require = {{ scopes = ["orders:write"] }}
"#,
        jwt = jwt_section(source_line)
    )
}

/// The standard config: JWKS from `tests/data/jwks.json`.
pub fn standard_config() -> String {
    config_with_jwks(&format!(
        "jwks_file = \"{}\"",
        data_file("jwks.json").display()
    ))
}

/// Replaces `from` by `to`, failing loudly when `from` is not there (so a typo cannot
/// silently leave the config unchanged).
pub fn replace(config: &str, from: &str, to: &str) -> String {
    assert!(config.contains(from), "config has no `{from}`:\n{config}");
    config.replacen(from, to, 1)
}

/// A per-test directory under the system temp dir, removed on drop.
pub struct TestDir {
    pub path: PathBuf,
}

static DIR_COUNTER: AtomicUsize = AtomicUsize::new(0);

impl TestDir {
    pub fn new() -> Self {
        let n = DIR_COUNTER.fetch_add(1, Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!("warden-it-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Self { path }
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// What a CLI run printed.
#[derive(Debug)]
pub struct CliOutput {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl CliOutput {
    /// Panics with everything printed unless the command succeeded.
    pub fn ok(self) -> Self {
        assert!(self.status.success(), "command failed: {self:#?}");
        self
    }
}

/// A config file in its own directory, for the CLI and the server.
pub struct Env {
    pub dir: TestDir,
    pub config: PathBuf,
}

impl Env {
    /// Writes `warden.toml` into a fresh directory.
    pub fn new(config_text: &str) -> Self {
        let dir = TestDir::new();
        let config = dir.path.join("warden.toml");
        std::fs::write(&config, config_text).unwrap();
        Self { dir, config }
    }

    /// Runs `warden --config <file> ARGS…`, feeding `stdin` when given.
    pub fn cli(&self, args: &[&str], stdin: Option<&str>) -> CliOutput {
        run_warden(&self.config, args, stdin)
    }

    /// `warden user add NAME --role … --password-stdin`.
    pub fn add_user(&self, name: &str, password: &str, roles: &[&str]) {
        let mut args = vec!["user", "add", name, "--password-stdin"];
        for r in roles {
            args.extend(["--role", r]);
        }
        self.cli(&args, Some(&format!("{password}\n"))).ok();
    }

    /// `warden key create --name NAME --role …`: the printed key.
    pub fn create_key(&self, name: &str, roles: &[&str]) -> String {
        let mut args = vec!["key", "create", "--name", name];
        for r in roles {
            args.extend(["--role", r]);
        }
        let out = self.cli(&args, None).ok();
        let lines: Vec<&str> = out.stdout.lines().collect();
        assert_eq!(lines.len(), 1, "key create must print one line: {out:#?}");
        assert!(lines[0].starts_with("wdn_"), "not a key: {out:#?}");
        lines[0].to_owned()
    }

    /// The id of the key named `name`, from `warden key list`.
    pub fn key_id(&self, name: &str) -> String {
        let out = self.cli(&["key", "list"], None).ok();
        out.stdout
            .lines()
            .skip(1)
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .find(|cols| cols.get(1) == Some(&name))
            .map(|cols| cols[0].to_owned())
            .unwrap_or_else(|| panic!("no key `{name}` in:\n{}", out.stdout))
    }

    /// Starts `warden serve` on this config.
    pub fn serve(self) -> Warden {
        Warden::start(self)
    }
}

/// Runs the binary with `--config`.
pub fn run_warden(config: &Path, args: &[&str], stdin: Option<&str>) -> CliOutput {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_warden"));
    cmd.arg("--config")
        .arg(config)
        .args(args)
        .env_remove("WARDEN_CONFIG")
        .env_remove("WARDEN_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
    let mut child = cmd.spawn().unwrap();
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    CliOutput {
        status: out.status,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A running `warden serve`, killed on drop.
pub struct Warden {
    child: Child,
    pub addr: SocketAddr,
    log: Arc<Mutex<Vec<String>>>,
    pub env: Env,
}

impl std::ops::Deref for Warden {
    type Target = Env;
    fn deref(&self) -> &Env {
        &self.env
    }
}

/// `warden serve` on a config, with the default log level and stderr piped; JSON log lines
/// when `json`.
pub fn spawn_serve(config: &Path, json: bool) -> std::process::Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_warden"));
    cmd.arg("--config").arg(config);
    if json {
        cmd.arg("--log-json");
    }
    cmd.arg("serve")
        .env_remove("WARDEN_CONFIG")
        .env_remove("WARDEN_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

impl Warden {
    /// Starts the server and waits (up to 20 s) for its "listening" log line.
    pub fn start(env: Env) -> Self {
        let child = spawn_serve(&env.config, true);
        Self::from_child(env, child)
    }

    /// Waits (up to 20 s) for a spawned server's "listening" log line; stderr must be piped.
    pub fn from_child(env: Env, mut child: std::process::Child) -> Self {
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel::<String>();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                sink.lock().unwrap().push(line.clone());
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        let addr = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(addr) = listening(&line) {
                        break addr;
                    }
                }
                Err(e) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "warden did not report listening ({e}); stderr:\n{}",
                        log.lock().unwrap().join("\n")
                    );
                }
            }
        };
        Self {
            child,
            addr,
            log,
            env,
        }
    }

    /// Sends a request to the server.
    pub fn send(&self, method: &str, target: &str, headers: &[(&str, &str)]) -> Response {
        send(self.addr, method, target, headers)
    }

    /// `GET target` with headers.
    pub fn get(&self, target: &str, headers: &[(&str, &str)]) -> Response {
        self.send("GET", target, headers)
    }

    /// Sends a request with a body (`Content-Length` is set).
    pub fn send_with_body(
        &self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Response {
        send_with_body(self.addr, method, target, headers, body)
    }

    /// `POST target` with the fields url-encoded as `application/x-www-form-urlencoded`.
    pub fn post_form(
        &self,
        target: &str,
        headers: &[(&str, &str)],
        fields: &[(&str, &str)],
    ) -> Response {
        let mut all = vec![("Content-Type", "application/x-www-form-urlencoded")];
        all.extend_from_slice(headers);
        self.send_with_body("POST", target, &all, form_encode(fields).as_bytes())
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the server logged so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }
}

fn listening(line: &str) -> Option<SocketAddr> {
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    let fields = v.get("fields")?;
    if fields.get("message")?.as_str()? != "warden is listening" {
        return None;
    }
    fields.get("listen")?.as_str()?.parse().ok()
}

impl Warden {
    /// Sends SIGTERM and waits (up to 15 s) for the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success(), "kill -TERM {pid}");
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "warden did not exit after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Warden {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Calls `f` every 50 ms until it returns `Some`, failing after `timeout`.
pub fn poll_until<T>(timeout: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Percent-encodes one form or query component (`application/x-www-form-urlencoded`:
/// unreserved characters kept, space as `+`, every other byte as `%XX`).
pub fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `k=v&k=v`, each part url-encoded.
pub fn form_encode(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", url_encode(k), url_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `Basic base64(user:password)`.
pub fn basic(user: &str, password: &str) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

/// `Bearer TOKEN`.
pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// The headers of a response without the ones that differ per request (date, decision id),
/// lowercased and sorted by name (repeated fields keep their order), for comparing answers.
pub fn stable_headers(r: &Response) -> Vec<(String, String)> {
    let mut h: Vec<(String, String)> = r
        .headers
        .iter()
        .filter(|(n, _)| n != "date" && n != "x-warden-decision")
        .cloned()
        .collect();
    h.sort_by(|a, b| a.0.cmp(&b.0));
    h
}

/// The body with the decision id replaced by a placeholder.
pub fn stable_body(r: &Response) -> String {
    match r.header("x-warden-decision") {
        Some(id) if !id.is_empty() => r.body.replace(id, "<decision>"),
        _ => r.body.clone(),
    }
}

/// Strings no denial body may contain: key ids, paths, Rust type and variant names.
pub fn leaks(body: &str) -> Vec<&'static str> {
    const FORBIDDEN: &[&str] = &[
        "es-1",
        "rs-1",
        "ed-1",
        "jwks",
        "warden-it-",
        "/tmp",
        ".rs",
        ".toml",
        "::",
        "Some(",
        "None",
        "Ok(",
        "Err(",
        "TokenProblem",
        "Rejection",
        "SendingError",
        "BadSending",
        "PathError",
        "Ambiguous",
        "Malformed",
        "Identity {",
        "Deny",
        "panicked",
        "sqlx",
        "argon2",
    ];
    FORBIDDEN
        .iter()
        .copied()
        .filter(|f| body.contains(f))
        .collect()
}

/// A local port nothing listens on.
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}
