//! Real backing services for the replica, outage and backend tests: a schema of its own on the
//! machine's PostgreSQL, a key prefix on the machine's Redis, and private `redis-server` and
//! PostgreSQL processes (and a three-node Redis Cluster) that a test may kill, pause and
//! restart without touching anyone else's. Every process is stopped when its guard drops.
//!
//! The Redis helpers follow `crates/warden-store/tests/common/redis.rs`; the test crates are
//! separate, so they are repeated here.

use std::io::{Read as _, Write as _};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::{Env, TestDir, Warden};

/// Where the machine's PostgreSQL is unless `WARDEN_TEST_PG_URL` says otherwise.
const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// How long a fresh server may take to answer.
const START_WITHIN: Duration = Duration::from_secs(15);

/// `count` random bytes in hex.
pub fn random_hex(count: usize) -> String {
    let mut bytes = vec![0u8; count];
    aws_lc_rs::rand::fill(&mut bytes).unwrap();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A free port whose cluster bus port (port + 10000) is free too.
pub fn free_cluster_port() -> u16 {
    loop {
        let port = free_port();
        let Some(bus) = port.checked_add(10_000) else {
            continue;
        };
        if TcpListener::bind(("127.0.0.1", bus)).is_ok() {
            return port;
        }
    }
}

/// Polls `ready` every 20 ms until it holds; panics naming `what` after `within`.
pub fn wait_until(within: Duration, what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

// ---------------------------------------------------------------------------------------------
// The machine's PostgreSQL and Redis
// ---------------------------------------------------------------------------------------------

/// The machine's PostgreSQL, without any search_path.
pub fn pg_base_url() -> String {
    std::env::var("WARDEN_TEST_PG_URL").unwrap_or_else(|_| DEFAULT_PG_URL.to_owned())
}

/// `url` with its query string extended by `param`.
pub fn with_param(url: &str, param: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{param}")
}

/// `url` with the database (its path) replaced.
pub fn with_database(url: &str, database: &str) -> String {
    let (main, query) = url
        .split_once('?')
        .map_or((url, None), |(m, q)| (m, Some(q)));
    let (scheme, rest) = main.split_once("://").unwrap();
    let authority = rest.split('/').next().unwrap();
    let query = query.map(|q| format!("?{q}")).unwrap_or_default();
    format!("{scheme}://{authority}/{database}{query}")
}

/// Runs SQL with `psql` (stopping at the first error) and returns what it printed, unaligned
/// and without headers; panics with psql's message when it fails.
pub fn psql(url: &str, sql: &str) -> String {
    let out = Command::new("psql")
        .args([
            url,
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            sql,
        ])
        .stdin(Stdio::null())
        .output()
        .expect("psql must be installed");
    assert!(
        out.status.success(),
        "psql `{sql}` failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A schema of its own on the machine's PostgreSQL, dropped with everything in it on drop.
pub struct PgSchema {
    pub name: String,
    /// The URL for `[store] url`: the server with this schema as the search_path.
    pub url: String,
}

impl PgSchema {
    /// Runs SQL in this schema.
    pub fn sql(&self, sql: &str) -> String {
        psql(&self.url, sql)
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let drop = format!(
            "SET lock_timeout = '10s'; DROP SCHEMA IF EXISTS {} CASCADE",
            self.name
        );
        let _ = Command::new("psql")
            .args([pg_base_url().as_str(), "-X", "-q", "-c", drop.as_str()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// A fresh schema `w_<random>`; the URL selects it the way the store tests do (the server
/// applies `-c` options at connect, so every pooled connection uses it).
pub fn pg_schema() -> PgSchema {
    let name = format!("w_{}", random_hex(8));
    psql(&pg_base_url(), &format!("CREATE SCHEMA {name}"));
    let url = with_param(
        &pg_base_url(),
        &format!("options=-c%20search_path%3D{name}"),
    );
    PgSchema { name, url }
}

/// A key prefix of its own on the machine's Redis (127.0.0.1:6379); the counters it holds
/// expire by themselves.
pub fn redis_prefix() -> String {
    format!("wt:{}:", random_hex(8))
}

/// The machine's Redis.
pub const MACHINE_REDIS: &str = "redis://127.0.0.1:6379";

// ---------------------------------------------------------------------------------------------
// Private Redis
// ---------------------------------------------------------------------------------------------

/// Sends one inline command and returns the raw reply (a simple reply or a bulk string).
pub fn redis_command(port: u16, command: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    stream.write_all(format!("{command}\r\n").as_bytes())?;
    let mut reply = Vec::new();
    let mut buf = [0u8; 4096];
    while !complete(&reply) {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        reply.extend_from_slice(&buf[..n]);
    }
    let _ = stream.shutdown(Shutdown::Both);
    Ok(String::from_utf8_lossy(&reply).into_owned())
}

/// True once `reply` holds one whole RESP simple reply or bulk string.
fn complete(reply: &[u8]) -> bool {
    let Some(line_end) = reply.windows(2).position(|w| w == b"\r\n") else {
        return false;
    };
    if reply[0] != b'$' {
        return true;
    }
    let len: i64 = String::from_utf8_lossy(&reply[1..line_end])
        .parse()
        .unwrap_or(-1);
    len < 0 || reply.len() >= line_end + 2 + usize::try_from(len).unwrap() + 2
}

/// A private `redis-server` on its own port, without persistence; killed on drop.
pub struct PrivateRedis {
    pub port: u16,
    extra: Vec<String>,
    dir: TestDir,
    child: Option<Child>,
}

impl PrivateRedis {
    /// A server on a free port, answering PING.
    pub fn start() -> Self {
        Self::start_with(free_port(), &[])
    }

    /// A server on `port` with extra `redis-server` arguments (e.g. `--requirepass x`).
    pub fn start_with(port: u16, extra: &[&str]) -> Self {
        let mut server = Self {
            port,
            extra: extra.iter().map(|s| (*s).to_owned()).collect(),
            dir: TestDir::new(),
            child: None,
        };
        server.spawn();
        server
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// SIGKILL, then waits for the process to be gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// A new server on the same port (killing the running one first).
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// SIGSTOP: the socket still accepts connections, nothing answers.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// SIGCONT after `pause`.
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, which: &str) {
        let pid = self.child.as_ref().unwrap().id().to_string();
        let status = Command::new("kill").args([which, &pid]).status().unwrap();
        assert!(status.success(), "kill {which} {pid}");
    }

    fn spawn(&mut self) {
        let port = self.port.to_string();
        let dir = self.dir.path.to_str().unwrap().to_owned();
        let mut args: Vec<String> = [
            "--port",
            &port,
            "--bind",
            "127.0.0.1",
            "--dir",
            &dir,
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
        ]
        .map(str::to_owned)
        .to_vec();
        args.extend(self.extra.iter().cloned());
        let child = Command::new("redis-server")
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed");
        self.child = Some(child);
        // With `--requirepass` PING answers NOAUTH: any answer means it is up.
        let deadline = Instant::now() + START_WITHIN;
        while !redis_command(self.port, "PING").is_ok_and(|r| r.starts_with(['+', '-'])) {
            let exited = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            assert!(
                exited.is_none(),
                "redis-server on {port} exited: {exited:?}"
            );
            assert!(Instant::now() < deadline, "redis on {port} never answered");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        // SIGKILL ends a stopped (SIGSTOP) process too.
        self.kill();
    }
}

/// Three private primaries forming a Redis Cluster (no replicas); killed on drop.
pub struct RedisCluster {
    pub nodes: Vec<PrivateRedis>,
    _dir: TestDir,
}

impl RedisCluster {
    /// Starts three nodes, joins them with `redis-cli --cluster create`, waits for
    /// `cluster_state:ok` on each.
    pub fn start() -> Self {
        let dir = TestDir::new();
        let nodes: Vec<PrivateRedis> = (0..3)
            .map(|_| {
                let port = free_cluster_port();
                let conf = dir.path.join(format!("nodes-{port}.conf"));
                let conf = conf.to_str().unwrap();
                let extra = [
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    conf,
                    "--cluster-node-timeout",
                    "5000",
                ];
                PrivateRedis::start_with(port, &extra)
            })
            .collect();
        let addrs: Vec<String> = nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        let out = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&addrs)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdin(Stdio::null())
            .output()
            .expect("redis-cli must be installed");
        assert!(
            out.status.success(),
            "redis-cli --cluster create: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        for node in &nodes {
            wait_until(Duration::from_secs(20), "cluster_state:ok", || {
                redis_command(node.port, "CLUSTER INFO")
                    .is_ok_and(|r| r.contains("cluster_state:ok"))
            });
        }
        Self { nodes, _dir: dir }
    }

    /// `redis://127.0.0.1:<port>` of every node.
    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(PrivateRedis::url).collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Private PostgreSQL
// ---------------------------------------------------------------------------------------------

/// The directory of `initdb`, `pg_ctl` and `postgres`.
fn pg_bin() -> PathBuf {
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output()
        && out.status.success()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join("initdb").exists() {
            return dir;
        }
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL must be installed under /usr/lib/postgresql")
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    found.sort();
    found
        .pop()
        .expect("no initdb under /usr/lib/postgresql/*/bin")
}

/// A private PostgreSQL cluster on its own port, run as the `postgres` user (it refuses to
/// run as root); stopped and removed on drop.
pub struct PrivatePostgres {
    pub port: u16,
    bin: PathBuf,
    dir: TestDir,
    running: bool,
}

impl PrivatePostgres {
    /// `initdb` (a few seconds) and start on a free port.
    pub fn start() -> Self {
        let mut pg = Self::stopped();
        pg.restart();
        pg
    }

    /// `initdb` only: the port is chosen but nothing listens there until [`Self::restart`].
    pub fn stopped() -> Self {
        let dir = TestDir::new();
        as_root("chown", &["postgres", dir.path.to_str().unwrap()]);
        let bin = pg_bin();
        let data = dir.path.join("data");
        let initdb = bin.join("initdb");
        let args = [
            "-D",
            data.to_str().unwrap(),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
        ];
        as_postgres(&initdb, &args, &dir.path);
        Self {
            port: free_port(),
            bin,
            dir,
            running: false,
        }
    }

    /// `postgres://postgres@127.0.0.1:<port>/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// `pg_ctl stop -m immediate`: every backend ends at once, as in a crash.
    pub fn kill(&mut self) {
        if self.running {
            self.pg_ctl(&["stop", "-m", "immediate", "-w"]);
            self.running = false;
        }
    }

    /// Starts (again) on the same port and waits until it accepts connections.
    pub fn restart(&mut self) {
        self.kill();
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path.display()
        );
        let log = self.dir.path.join("postgres.log");
        self.pg_ctl(&[
            "start",
            "-w",
            "-t",
            "30",
            "-l",
            log.to_str().unwrap(),
            "-o",
            &options,
        ]);
        self.running = true;
    }

    fn pg_ctl(&self, args: &[&str]) {
        let data = self.dir.path.join("data");
        let mut all = vec!["-D", data.to_str().unwrap()];
        all.extend_from_slice(args);
        as_postgres(&self.bin.join("pg_ctl"), &all, &self.dir.path);
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        if self.running {
            let data = self.dir.path.join("data");
            let _ = Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(self.bin.join("pg_ctl"))
                .args([
                    "-D",
                    data.to_str().unwrap(),
                    "stop",
                    "-m",
                    "immediate",
                    "-w",
                ])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

fn as_root(program: &str, args: &[&str]) {
    let status = Command::new(program).args(args).status().unwrap();
    assert!(status.success(), "{program} {args:?}");
}

/// Runs a PostgreSQL program as the `postgres` user; output goes to a file (a server started
/// by `pg_ctl` would otherwise hold a pipe open), shown when it fails.
fn as_postgres(program: &Path, args: &[&str], dir: &Path) {
    let out_file = dir.join("command.out");
    let out = std::fs::File::create(&out_file).unwrap();
    let status = Command::new("runuser")
        .args(["-u", "postgres", "--"])
        .arg(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .status()
        .expect("runuser must be installed");
    let log = std::fs::read_to_string(dir.join("postgres.log")).unwrap_or_default();
    assert!(
        status.success(),
        "{} {args:?}: {}\n{log}",
        program.display(),
        std::fs::read_to_string(&out_file).unwrap_or_default()
    );
}

// ---------------------------------------------------------------------------------------------
// warden with an environment of its own
// ---------------------------------------------------------------------------------------------

/// A `warden serve` child on `config` (JSON logs, stderr piped) with extra variables.
fn spawn_serve_env(config: &Path, vars: &[(&str, &str)]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_warden"))
        .arg("--config")
        .arg(config)
        .args(["--log-json", "serve"])
        .env_remove("WARDEN_CONFIG")
        .env_remove("WARDEN_LOG")
        .envs(vars.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Like [`Warden::start`], with extra environment variables for the server.
pub fn serve_with_env(env: Env, vars: &[(&str, &str)]) -> Warden {
    let child = spawn_serve_env(&env.config, vars);
    Warden::from_child(env, child)
}

/// Runs `warden serve` expecting it to stop by itself within 20 s: its exit status and
/// stderr. Panics (after killing it) when it keeps running.
pub fn serve_until_exit(config: &Path, vars: &[(&str, &str)]) -> (ExitStatus, String) {
    let mut child = spawn_serve_env(config, vars);
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let text = reader.join().unwrap();
            panic!("warden serve kept running; stderr:\n{text}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (status, reader.join().unwrap())
}

// ---------------------------------------------------------------------------------------------
// Configurations
// ---------------------------------------------------------------------------------------------

/// The standard config with sign-in on, `[store] url` and a `[state]` section body appended
/// (each replica gets its own copy; `listen` port 0 gives each its own port).
pub fn shared_config(store_url: &str, state_body: &str) -> String {
    format!(
        "{}[login]\n[store]\nurl = \"{store_url}\"\n[state]\n{state_body}",
        super::standard_config()
    )
}

/// A `[state]` body for one Redis and a key prefix.
pub fn redis_state(url: &str, prefix: &str) -> String {
    format!("url = \"{url}\"\nkey_prefix = \"{prefix}\"\n")
}
