//! Real front proxies for the integration matrix: nginx and Caddy started from the example
//! configs (`examples/nginx/nginx.conf`, `examples/caddy/Caddyfile`, only the addresses
//! changed), on free loopback ports, in front of a real warden and the recording app
//! ([`super::app`]). Each process is stopped on drop, by the id it was started with.

use std::fs::File;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::app::App;
use super::browser::{CSRF, LOGIN, SESSION, has_input, session_cookie, set_cookie};
use super::{
    BROWSER_ACCEPT, Env, Response, TestDir, Warden, form_encode, replace, send, send_with_body,
};

/// The repository's `examples/` directory.
pub fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

/// A loopback port that was free a moment ago (bound, then released).
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// The front proxies under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Nginx,
    Caddy,
}

impl Kind {
    /// The binary: `$NGINX` / `$CADDY`, else on `PATH`, else the Debian location. A missing
    /// binary fails the test: CI installs both (`.ci/run`).
    pub fn binary(self) -> PathBuf {
        let (var, name, debian) = match self {
            Self::Nginx => ("NGINX", "nginx", "/usr/sbin/nginx"),
            Self::Caddy => ("CADDY", "caddy", "/usr/bin/caddy"),
        };
        if let Some(path) = std::env::var_os(var) {
            return PathBuf::from(path);
        }
        let on_path: Vec<PathBuf> = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).map(|d| d.join(name)).collect())
            .unwrap_or_default();
        on_path
            .into_iter()
            .chain([PathBuf::from(debian)])
            .find(|p| p.is_file())
            .unwrap_or_else(|| {
                panic!(
                    "{name} is not installed: the front-proxy tests need it \
                     (Debian/Ubuntu: apt-get install {name}; or set ${var} to the binary)"
                )
            })
    }
}

/// A running nginx or Caddy, stopped on drop.
pub struct Front {
    pub kind: Kind,
    pub addr: SocketAddr,
    pub dir: TestDir,
    child: Child,
}

impl Front {
    /// Starts `kind` in front of `warden` and `app`, retrying with new ports if the one picked
    /// was taken in the meantime.
    pub fn start(kind: Kind, warden: SocketAddr, app: SocketAddr) -> Self {
        let binary = kind.binary();
        let mut failures = Vec::new();
        for _ in 0..3 {
            match Self::try_start(kind, &binary, warden, app) {
                Ok(front) => return front,
                Err(log) => failures.push(log),
            }
        }
        panic!("{kind:?} did not start:\n{}", failures.join("\n----\n"));
    }

    fn try_start(
        kind: Kind,
        binary: &Path,
        warden: SocketAddr,
        app: SocketAddr,
    ) -> Result<Self, String> {
        let dir = TestDir::new();
        let port = free_port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let mut cmd = match kind {
            Kind::Nginx => nginx_command(binary, &dir.path, port, warden, app),
            Kind::Caddy => caddy_command(binary, &dir.path, port, warden, app),
        };
        let stderr = File::create(dir.path.join("stderr.log")).unwrap();
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
        let mut front = Self {
            kind,
            addr,
            dir,
            child,
        };
        front.wait_ready()?;
        Ok(front)
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if self.child.try_wait().unwrap().is_some() {
                return Err(format!("{:?} exited:\n{}", self.kind, self.log()));
            }
            if TcpStream::connect(self.addr).is_ok() {
                // Still ours? (Another process may have taken the port.)
                std::thread::sleep(Duration::from_millis(100));
                if self.child.try_wait().unwrap().is_none() {
                    return Ok(());
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!("{:?} never listened:\n{}", self.kind, self.log()))
    }

    /// Sends a request through the proxy.
    pub fn send(&self, method: &str, target: &str, headers: &[(&str, &str)]) -> Response {
        send(self.addr, method, target, headers)
    }

    /// `GET target` through the proxy.
    pub fn get(&self, target: &str, headers: &[(&str, &str)]) -> Response {
        self.send("GET", target, headers)
    }

    /// What the proxy logged (stderr, and nginx's error log).
    pub fn log(&self) -> String {
        ["stderr.log", "nginx-error.log"]
            .iter()
            .filter_map(|f| std::fs::read_to_string(self.dir.path.join(f)).ok())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Front {
    fn drop(&mut self) {
        // SIGTERM first: nginx's master then stops its worker too.
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Client → front proxy → (warden, app). Fields drop in order: the proxy stops first.
pub struct Stack {
    pub front: Front,
    pub app: App,
    pub warden: Warden,
}

impl Stack {
    /// warden on `config`, the app, and `kind` in front of both.
    pub fn start(kind: Kind, config: &str) -> Self {
        let warden = Env::new(config).serve();
        let app = App::start();
        let front = Front::start(kind, warden.addr, app.addr);
        Self { front, app, warden }
    }

    /// Sends through the proxy and checks the request never reached the app.
    pub fn denied(&self, method: &str, target: &str, headers: &[(&str, &str)]) -> Response {
        let before = self.app.count();
        let r = self.front.send(method, target, headers);
        assert_eq!(
            self.app.count(),
            before,
            "{method} {target} reached the app"
        );
        r
    }

    /// Signs `user` in through the proxy (the sign-in page, then its form, returning to
    /// `rd`): the `Cookie` value of the new session.
    pub fn sign_in(&self, user: &str, password: &str, rd: &str) -> String {
        let page = self.front.get(LOGIN, &[("Accept", BROWSER_ACCEPT)]);
        assert!(
            has_input(&page.body, "password", Some("password")),
            "{page:#?}"
        );
        let csrf = set_cookie(&page, CSRF).value;
        let cookie = format!("{CSRF}={csrf}");
        let fields = [("csrf", csrf.as_str()), ("rd", rd)];
        let fields = [&fields[..], &[("username", user), ("password", password)]].concat();
        let form = "application/x-www-form-urlencoded";
        let headers = [("Cookie", cookie.as_str()), ("Content-Type", form)];
        let body = form_encode(&fields);
        let r = send_with_body(self.front.addr, "POST", LOGIN, &headers, body.as_bytes());
        assert_eq!(
            (r.status, r.all("location")),
            (303, vec![rd.to_owned()]),
            "{r:#?}"
        );
        session_cookie(&set_cookie(&r, SESSION).value)
    }

    /// The `WWW-Authenticate` lines the client gets: one per challenge through Caddy; through
    /// nginx all on one line (warden's nginx endpoint joins them: nginx copies one line).
    pub fn lines(&self, challenges: &[&str]) -> Vec<String> {
        match self.front.kind {
            Kind::Caddy => challenges.iter().map(|c| (*c).to_owned()).collect(),
            Kind::Nginx => vec![challenges.join(", ")],
        }
    }
}

/// `examples/nginx/nginx.conf` with the three addresses replaced, run in the foreground with
/// its prefix (pid, logs, temp files) in `dir`.
fn nginx_command(
    binary: &Path,
    dir: &Path,
    port: u16,
    warden: SocketAddr,
    app: SocketAddr,
) -> Command {
    let example = std::fs::read_to_string(examples_dir().join("nginx/nginx.conf")).unwrap();
    let conf = replace(
        &example,
        "listen 127.0.0.1:8081;",
        &format!("listen 127.0.0.1:{port};"),
    );
    let conf = replace(
        &conf,
        "server 127.0.0.1:4181;",
        &format!("server {warden};"),
    );
    let conf = replace(&conf, "server 127.0.0.1:8091;", &format!("server {app};"));
    let path = dir.join("nginx.conf");
    std::fs::write(&path, conf).unwrap();
    let mut cmd = Command::new(binary);
    cmd.arg("-e")
        .arg("stderr")
        .arg("-p")
        .arg(format!("{}/", dir.display()))
        .arg("-c")
        .arg(&path)
        .args(["-g", "daemon off;"]);
    cmd
}

/// `examples/caddy/Caddyfile`, copied into `dir`, with the addresses in its environment
/// variables; Caddy's own config and data directories are kept in `dir` too.
fn caddy_command(
    binary: &Path,
    dir: &Path,
    port: u16,
    warden: SocketAddr,
    app: SocketAddr,
) -> Command {
    let path = dir.join("Caddyfile");
    std::fs::copy(examples_dir().join("caddy/Caddyfile"), &path).unwrap();
    let mut cmd = Command::new(binary);
    cmd.args(["run", "--adapter", "caddyfile", "--config"])
        .arg(&path)
        .env("FRONT_PORT", port.to_string())
        .env("WARDEN_ADDR", warden.to_string())
        .env("APP_ADDR", app.to_string())
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("XDG_DATA_HOME", dir.join("data"));
    cmd
}
