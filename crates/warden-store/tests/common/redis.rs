//! Private Redis processes for tests: a free port, a `redis-server` child that can be
//! killed, restarted on the same port, paused and resumed, a three-node cluster, and a
//! server that accepts connections and never answers.
//!
//! Only `std` is used and nothing else from this crate's tests, so the file can be copied
//! as-is into another crate's tests. Every process is killed when its guard drops; the
//! machine's own Redis is never touched.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::thread;
use std::time::{Duration, Instant};

/// How long a fresh server may take to answer PING.
const START_WITHIN: Duration = Duration::from_secs(10);

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

/// A fresh directory, removed with everything in it when dropped.
pub struct ScratchDir(PathBuf);

impl ScratchDir {
    pub fn new(what: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let pid = std::process::id();
        let dir = std::env::temp_dir().join(format!("warden-{what}-{pid}-{n}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        ScratchDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A private `redis-server` child process on its own port, killed when dropped.
pub struct RedisServer {
    port: u16,
    extra: Vec<String>,
    dir: ScratchDir,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts a server without persistence on a free port and waits until it answers.
    pub fn start() -> Self {
        Self::start_with(free_port(), Vec::new())
    }

    /// Starts a server on `port` with extra `redis-server` arguments.
    pub fn start_with(port: u16, extra: Vec<String>) -> Self {
        let mut server = RedisServer {
            port,
            extra,
            dir: ScratchDir::new("redis"),
            child: None,
        };
        server.spawn();
        server
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:<port>/0`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// The process id, while the server runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// SIGKILL, then waits for the process to be gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts a new server on the same port (after `kill`, or kills the running one first).
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// SIGSTOP: the socket stays open and accepts connections, nothing answers.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// SIGCONT after `pause`.
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, which: &str) {
        let pid = self.pid().unwrap().to_string();
        let status = Command::new("kill").args([which, &pid]).status().unwrap();
        assert!(status.success(), "kill {which} {pid}");
    }

    fn spawn(&mut self) {
        let port = self.port.to_string();
        let dir = self.dir.path().to_str().unwrap().to_owned();
        let mut args: Vec<String> = ["--port", &port, "--bind", "127.0.0.1", "--dir", &dir]
            .into_iter()
            .map(str::to_owned)
            .collect();
        args.extend(["--save", "", "--appendonly", "no", "--daemonize", "no"].map(str::to_owned));
        args.extend(self.extra.iter().cloned());
        let child = Command::new("redis-server")
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed");
        self.child = Some(child);
        self.wait_for_pong();
    }

    fn wait_for_pong(&mut self) {
        let port = self.port;
        let deadline = Instant::now() + START_WITHIN;
        while !raw_command(port, "PING").is_ok_and(|r| r.starts_with("+PONG")) {
            let exited = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            assert!(
                exited.is_none(),
                "redis-server on port {port} exited: {exited:?}"
            );
            assert!(
                Instant::now() < deadline,
                "redis on port {port} never answered PING"
            );
            thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        // SIGKILL ends a paused (SIGSTOP) process too.
        self.kill();
    }
}

/// Sends one inline command and returns the raw reply (a simple reply or a bulk string).
pub fn raw_command(port: u16, command: &str) -> std::io::Result<String> {
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
    len < 0 || reply.len() >= line_end + 2 + len as usize + 2
}

/// Polls `ready` every 50 ms until it holds; panics naming `what` after `within`.
pub fn wait_until(within: Duration, what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        thread::sleep(Duration::from_millis(50));
    }
}

/// Three private primaries forming a Redis Cluster (no replicas); all killed when dropped.
pub struct Cluster {
    nodes: Vec<RedisServer>,
    _dir: ScratchDir,
}

impl Cluster {
    /// Starts three nodes, joins them with `redis-cli --cluster create`, waits for `cluster_state:ok`.
    pub fn start() -> Self {
        let dir = ScratchDir::new("redis-cluster");
        let nodes: Vec<RedisServer> = (0..3).map(|_| cluster_node(&dir)).collect();
        let addrs: Vec<String> = nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port()))
            .collect();
        let output = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&addrs)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdin(Stdio::null())
            .output()
            .expect("redis-cli must be installed");
        assert!(
            output.status.success(),
            "redis-cli --cluster create: {}",
            String::from_utf8_lossy(&output.stdout)
        );
        for node in &nodes {
            wait_until(Duration::from_secs(20), "cluster_state:ok", || {
                raw_command(node.port(), "CLUSTER INFO")
                    .is_ok_and(|r| r.contains("cluster_state:ok"))
            });
        }
        Cluster { nodes, _dir: dir }
    }

    /// One cluster shared by the tests of a binary that run at the same time; it is killed
    /// when the last of them drops its handle (a static would never be dropped).
    pub fn shared() -> Arc<Cluster> {
        static SHARED: Mutex<Weak<Cluster>> = Mutex::new(Weak::new());
        let mut shared = SHARED.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(cluster) = shared.upgrade() {
            return cluster;
        }
        let cluster = Arc::new(Cluster::start());
        *shared = Arc::downgrade(&cluster);
        cluster
    }

    /// `redis://127.0.0.1:<port>` of every node.
    pub fn urls(&self) -> Vec<String> {
        self.nodes
            .iter()
            .map(|n| format!("redis://127.0.0.1:{}", n.port()))
            .collect()
    }

    pub fn nodes(&self) -> &[RedisServer] {
        &self.nodes
    }
}

fn cluster_node(dir: &ScratchDir) -> RedisServer {
    let port = free_cluster_port();
    let conf = dir.path().join(format!("nodes-{port}.conf"));
    let extra = [
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        conf.to_str().unwrap(),
        "--cluster-node-timeout",
        "5000",
    ];
    RedisServer::start_with(port, extra.map(str::to_owned).to_vec())
}

/// A TCP server that accepts every connection and never sends a byte, like a hung Redis.
pub struct SilentServer {
    port: u16,
    held: Arc<Mutex<Vec<TcpStream>>>,
}

impl SilentServer {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let held = Arc::new(Mutex::new(Vec::new()));
        let keep = Arc::downgrade(&held);
        // The thread ends at the first connection after the server is dropped.
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Some(held) = keep.upgrade() else { return };
                if let Ok(stream) = stream {
                    held.lock().unwrap().push(stream);
                }
            }
        });
        SilentServer { port, held }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.held.lock().unwrap().len()
    }
}
