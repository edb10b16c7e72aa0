//! A real OpenID Provider for the OIDC tests: `tests/oidc-provider/server.mjs` (npm
//! `oidc-provider` 9) on a free loopback port, its test-only `/__test/` endpoints, and a
//! browser-less user agent for its login, consent and logout pages. The config JSON is
//! described at the top of `server.mjs`.

use std::io::{BufRead as _, BufReader};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::http::{Response, send, send_with_body};
use super::services::free_port;
use super::{basic, form_encode};

mod agent;
mod rp;
#[allow(
    unused_imports,
    reason = "each test crate uses a different part of the harness"
)]
pub use {
    agent::OpAgent,
    rp::{Pkce, jwt_header, jwt_payload, query_param},
};

/// How long a start may take: `listening` printed and discovery answering.
const START_WITHIN: Duration = Duration::from_secs(20);

/// `tests/oidc-provider` at the repository root.
pub fn op_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/oidc-provider")
}

/// Installs the npm packages once per machine (`npm ci` under `flock`, so parallel test
/// processes wait for one install), after checking that `node` runs.
fn ensure_installed() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        match Command::new("node").arg("--version").output() {
            Ok(out) if out.status.success() => {}
            Ok(out) => panic!("`node --version` failed: {out:?}"),
            Err(e) => panic!("the OIDC tests need Node.js >= 20 (`node`) on PATH: {e}"),
        }
        let dir = op_dir();
        assert!(
            dir.join("server.mjs").is_file(),
            "no server.mjs in {}",
            dir.display()
        );
        let done = || dir.join("node_modules/.package-lock.json").is_file();
        if done() {
            return;
        }
        let lock = std::env::temp_dir().join("warden-oidc-provider-npm.lock");
        let script = "test -f node_modules/.package-lock.json || npm ci --no-audit --no-fund";
        let out = Command::new("flock")
            .arg(&lock)
            .args(["sh", "-c", script])
            .current_dir(&dir)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("running `flock … npm ci` in {}: {e}", dir.display()));
        assert!(
            out.status.success() && done(),
            "npm ci in {} failed: {}\n{}",
            dir.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    });
}

/// A running provider, killed on drop. State (sessions, grants, tokens) lives in the
/// process: `stop`/`restart` lose it; the signing keys stay the same.
pub struct Op {
    child: Option<Child>,
    port: u16,
    issuer: String,
    config: Value,
    clients: Vec<Value>,
    log: Arc<Mutex<Vec<String>>>,
    started_in: Duration,
}

/// What `/__test/fail` makes one path do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer 500 `server_error`.
    Status500,
    /// Never answer (until `Off` or `reset_stats`).
    Hang,
    /// Answer normally again.
    Off,
}

impl Op {
    /// Starts the provider; `port` and `issuer` in `config` are filled in unless given.
    pub fn start(mut config: Value) -> Self {
        ensure_installed();
        let fixed = config.get("port").and_then(Value::as_u64).is_some();
        for _ in 0..3 {
            if !fixed {
                config["port"] = free_port().into();
            }
            let port = u16::try_from(config["port"].as_u64().unwrap()).unwrap();
            if config.get("issuer").is_none() {
                config["issuer"] = format!("http://127.0.0.1:{port}").into();
            }
            let mut op = Self {
                child: None,
                port,
                issuer: config["issuer"].as_str().unwrap().to_owned(),
                config: config.clone(),
                clients: Vec::new(),
                log: Arc::default(),
                started_in: Duration::ZERO,
            };
            match op.spawn() {
                Ok(()) => return op,
                Err(e) if !fixed && e.contains("EADDRINUSE") => continue,
                Err(e) => panic!("{e}"),
            }
        }
        panic!("oidc-provider found no free port in three tries")
    }

    /// Spawns `node server.mjs` and waits for `listening` and discovery.
    fn spawn(&mut self) -> Result<(), String> {
        let begun = Instant::now();
        let mut child = Command::new("node")
            .arg("server.mjs")
            .current_dir(op_dir())
            .env("OP_CONFIG", self.config.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawning `node server.mjs`: {e}"));
        let (tx, rx) = mpsc::channel();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        std::thread::spawn(move || {
            stdout
                .lines()
                .map_while(Result::ok)
                .for_each(|l| drop(tx.send(l)))
        });
        let (stderr, sink) = (
            BufReader::new(child.stderr.take().unwrap()),
            self.log.clone(),
        );
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        self.child = Some(child);
        let want = format!("listening {}", self.issuer);
        let deadline = begun + START_WITHIN;
        let ready = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) if line == want => break self.wait_discovery(deadline),
                Ok(_) => {}
                Err(e) => break Err(format!("no `{want}` line ({e})")),
            }
        };
        self.started_in = begun.elapsed();
        ready.map_err(|e| {
            self.kill();
            std::thread::sleep(Duration::from_millis(100)); // let stderr drain
            format!("oidc-provider did not start: {e}; stderr:\n{}", self.log())
        })
    }

    fn wait_discovery(&self, deadline: Instant) -> Result<(), String> {
        while Instant::now() < deadline {
            if TcpStream::connect(self.addr()).is_ok()
                && self.get("/.well-known/openid-configuration").status == 200
            {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err("discovery did not answer 200".to_owned())
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kills the process and waits for it: the port refuses connections afterwards.
    pub fn stop(&mut self) {
        self.kill();
    }

    /// Stops (if running) and starts again on the same port with the same config, and
    /// re-adds the clients of [`Op::add_client`].
    pub fn restart(&mut self) {
        self.kill();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match self.spawn() {
                Ok(()) => break,
                Err(e) if e.contains("EADDRINUSE") && Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => panic!("{e}"),
            }
        }
        for client in self.clients.clone() {
            self.post_clients(&client);
        }
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// `issuer` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    /// How long the last start took (spawn → discovery answering).
    pub fn started_in(&self) -> Duration {
        self.started_in
    }

    /// What the provider wrote on stderr.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// `GET path` on the provider.
    pub fn get(&self, path: &str) -> Response {
        let host = format!("127.0.0.1:{}", self.port);
        send(self.addr(), "GET", path, &[("Host", &host)])
    }

    /// `POST path` with a form body, with HTTP Basic client authentication when given.
    pub fn post_form(
        &self,
        path: &str,
        client: Option<(&str, &str)>,
        form: &[(&str, &str)],
    ) -> Response {
        let host = format!("127.0.0.1:{}", self.port);
        let auth = client.map(|(id, secret)| basic(id, secret));
        let mut headers = vec![
            ("Host", host.as_str()),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ];
        headers.extend(auth.as_deref().map(|a| ("Authorization", a)));
        send_with_body(
            self.addr(),
            "POST",
            path,
            &headers,
            form_encode(form).as_bytes(),
        )
    }

    fn control(&self, path: &str) -> Value {
        let r = self.post_form(path, None, &[]);
        assert_eq!(r.status, 200, "POST {path}: {r:?}\nstderr:\n{}", self.log());
        r.json()
    }

    /// The discovery document.
    pub fn discovery(&self) -> Value {
        self.get("/.well-known/openid-configuration").json()
    }

    /// Requests per oidc-provider route name (`token`, `introspection`, `jwks`,
    /// `discovery`, `userinfo`, …) since start or [`Op::reset_stats`].
    pub fn stats(&self) -> Value {
        self.get("/__test/stats").json()
    }

    /// One count of [`Op::stats`], 0 when absent.
    pub fn count(&self, route: &str) -> u64 {
        self.stats()[route].as_u64().unwrap_or(0)
    }

    /// Zeroes the counts and switches every [`Fault`] off.
    pub fn reset_stats(&self) {
        self.control("/__test/reset");
    }

    /// Ends `sub`'s sessions: back-channel logout tokens go to every client of theirs with a
    /// `backchannel_logout_uri`. `{"sessions": n, "sent": [{client_id, sid, ok, error?}]}`.
    pub fn backchannel_logout(&self, sub: &str) -> Value {
        self.control(&format!(
            "/__test/backchannel?sub={}",
            super::url_encode(sub)
        ))
    }

    /// Like [`Op::backchannel_logout`], for the session that holds `sid`.
    pub fn backchannel_logout_sid(&self, sid: &str) -> Value {
        self.control(&format!(
            "/__test/backchannel?sid={}",
            super::url_encode(sid)
        ))
    }

    /// Revokes `sub`'s grants and their tokens: a refresh then fails with `invalid_grant`.
    /// Returns how many grants there were.
    pub fn revoke_grants(&self, sub: &str) -> u64 {
        let path = format!("/__test/revoke-grants?sub={}", super::url_encode(sub));
        self.control(&path)["grants"].as_u64().unwrap()
    }

    /// Makes requests to `path` (e.g. `/token`) fail or hang, or answer again.
    pub fn fault(&self, path: &str, fault: Fault) {
        let mode = match fault {
            Fault::Status500 => "500",
            Fault::Hang => "hang",
            Fault::Off => "off",
        };
        self.control(&format!(
            "/__test/fail?path={}&mode={mode}",
            super::url_encode(path)
        ));
    }

    /// Adds (or replaces) a dynamic client, e.g. once warden's port is known; kept across
    /// [`Op::restart`]. A client of the same id in the config wins.
    pub fn add_client(&mut self, metadata: Value) {
        self.post_clients(&metadata);
        self.clients.push(metadata);
    }

    fn post_clients(&self, metadata: &Value) {
        let host = format!("127.0.0.1:{}", self.port);
        let headers = [
            ("Host", host.as_str()),
            ("Content-Type", "application/json"),
        ];
        let body = metadata.to_string();
        let r = send_with_body(
            self.addr(),
            "POST",
            "/__test/clients",
            &headers,
            body.as_bytes(),
        );
        assert_eq!(r.status, 200, "adding client {metadata}: {r:?}");
    }

    /// `{issuer}/auth?response_type=code&client_id=…&redirect_uri=…&` + `params`.
    pub fn authorize_url(
        &self,
        client_id: &str,
        redirect_uri: &str,
        params: &[(&str, &str)],
    ) -> String {
        let mut all = vec![
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", redirect_uri),
        ];
        all.extend_from_slice(params);
        format!("{}/auth?{}", self.issuer, form_encode(&all))
    }

    /// Redeems an authorization code (client_secret_basic + PKCE verifier): the token
    /// response, or a panic showing the error.
    pub fn token_for_code(
        &self,
        client: (&str, &str),
        code: &str,
        redirect_uri: &str,
        verifier: &str,
    ) -> Value {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier),
        ];
        self.token_ok(self.post_form("/token", Some(client), &form))
    }

    /// A refresh_token grant, answered as is (400 `invalid_grant` once revoked).
    pub fn refresh(&self, client: (&str, &str), refresh_token: &str) -> Response {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ];
        self.post_form("/token", Some(client), &form)
    }

    /// A client-credentials access token for `resource` (opaque when the resource is).
    pub fn client_credentials(&self, client: (&str, &str), scope: &str, resource: &str) -> String {
        let form = [
            ("grant_type", "client_credentials"),
            ("scope", scope),
            ("resource", resource),
        ];
        let token = self.token_ok(self.post_form("/token", Some(client), &form));
        token["access_token"].as_str().unwrap().to_owned()
    }

    /// RFC 7662 introspection of `token`, authenticated as `client`.
    pub fn introspect(&self, client: (&str, &str), token: &str) -> Value {
        let r = self.post_form("/token/introspection", Some(client), &[("token", token)]);
        assert_eq!(r.status, 200, "introspection: {r:?}");
        r.json()
    }

    fn token_ok(&self, r: Response) -> Value {
        assert_eq!(
            r.status,
            200,
            "token endpoint: {r:?}\nstderr:\n{}",
            self.log()
        );
        r.json()
    }
}

impl Drop for Op {
    fn drop(&mut self) {
        self.kill();
    }
}
