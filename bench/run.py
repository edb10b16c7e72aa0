#!/usr/bin/env python3
"""warden's load benchmark: warden against baselines and peers, in one run, on loopback.

    python3 bench/run.py                  # 5 s x 3 runs per scenario, median; writes BENCHMARKS.md
    python3 bench/run.py --quick          # 1 s x 1 run: a smoke test (BENCHMARKS.md untouched)
    python3 bench/run.py --only warden-jwt,hyper

Every server (and its helpers: nginx, the upstream) is pinned to CPU 0 with taskset, the load
generator (wrk, oha) to CPU 1. Every figure is also given as a ratio to the bare hyper server
measured in the same run, because the machine may be busy with other work: the CPU time that
neither the server nor the load generator used is measured during every run and printed.

Needs: cargo, wrk, nginx, caddy, node + npm, openssl, taskset (see bench/README.md).
Python standard library only.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
WORK = BENCH / "work"  # generated keys, tokens, configs, logs (git-ignored)
TOOLS = BENCH / ".tools"  # oha (cargo install --root)
WARDEN = ROOT / "target" / "release" / "warden"
BIN = BENCH / "target" / "release"
EXPRESS = BENCH / "peers" / "express"

SERVER_CPU = "0"
LOAD_CPU = "1"
CONNECTIONS = 64
WRK_THREADS = 1  # one core for the load generator
REALM = "bench"
ISSUER = "https://idp.bench"
AUDIENCE = "api"
KID = "bench-es256"
BASIC_USER, BASIC_PASSWORD = "bench", "bench-password-1"
CACHE_TOKENS = 100_000
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def die(msg: str) -> None:
    log(f"run.py: {msg}")
    sys.exit(1)


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    kw.setdefault("check", True)
    return subprocess.run(cmd, **kw)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------------------------
# Processes: start pinned, wait until they answer, measure, stop by PID.


def proc_status(pid: int, key: str) -> int:
    """A VmRSS/VmHWM-style field of /proc/PID/status, in KiB (0 if gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def proc_cpu_ns(pid: int) -> int:
    """CPU time of a process's live threads, in ns (the scheduler's own account, exact, unlike
    the tick-sampled utime/stime)."""
    total = 0
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                    total += int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                pass
    except OSError:
        pass
    return total


def children(pid: int) -> list[int]:
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out += [int(p) for p in f.read().split()]
    except OSError:
        pass
    return out


def cpu_times() -> list[tuple[int, int]]:
    """(busy, total) ticks per CPU from /proc/stat; steal counts as busy (someone else's)."""
    out = []
    with open("/proc/stat") as f:
        for line in f:
            if re.match(r"cpu\d+ ", line):
                v = [int(x) for x in line.split()[1:]]
                idle = v[3] + v[4]
                total = sum(v[:8])
                out.append((total - idle, total))
    return out


def loadavg() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


@dataclass
class Proc:
    name: str
    cmd: list[str]
    env: dict | None = None
    cwd: Path | None = None
    ready: tuple[int, str] | None = None  # (port, path) answering any HTTP status
    measured: bool = True  # counts in the stack's RSS and CPU
    popen: subprocess.Popen | None = None
    log_path: Path | None = None

    def start(self) -> None:
        self.log_path = WORK / "logs" / f"{self.name}.log"
        out = open(self.log_path, "wb")
        env = dict(os.environ)
        env.update(self.env or {})
        self.popen = subprocess.Popen(
            ["taskset", "-c", SERVER_CPU, *self.cmd],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            env=env,
            cwd=self.cwd,
        )
        out.close()

    def pids(self) -> list[int]:
        """The process and its children (nginx's worker)."""
        if not self.popen:
            return []
        return [self.popen.pid, *children(self.popen.pid)]

    def stop(self) -> None:
        if not self.popen or self.popen.poll() is not None:
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()

    def tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-2000:]
        except (OSError, AttributeError):
            return ""


def http_get(port: int, path: str, headers: dict | None = None, timeout: float = 2.0):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        resp.read()
        got: dict[str, list[str]] = {}
        for k, v in resp.getheaders():
            got.setdefault(k.lower(), []).append(v)
        return resp.status, got
    finally:
        conn.close()


class Stack:
    """The processes of one server under test, started in order, stopped in reverse."""

    def __init__(self, procs: list[Proc]):
        self.procs = procs

    def __enter__(self) -> "Stack":
        try:
            for p in self.procs:
                p.start()
                if p.ready:
                    self.wait_ready(p)
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        for p in reversed(self.procs):
            p.stop()

    @staticmethod
    def wait_ready(p: Proc) -> None:
        port, path = p.ready
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if p.popen.poll() is not None:
                die(f"{p.name} exited at start:\n{p.tail()}")
            try:
                http_get(port, path, timeout=0.5)
                return
            except OSError:
                time.sleep(0.05)
        die(f"{p.name} did not answer on port {port} within 30 s:\n{p.tail()}")

    def measured_pids(self) -> list[int]:
        return [pid for p in self.procs if p.measured for pid in p.pids()]

    def rss_kib(self, key: str) -> int:
        return sum(proc_status(pid, key) for pid in self.measured_pids())

    def reset_peak(self) -> None:
        """Resets VmHWM to the current RSS (Linux clear_refs 5), so the peak read after the load
        is the load's, not a start-up transient."""
        for pid in self.measured_pids():
            try:
                with open(f"/proc/{pid}/clear_refs", "w") as f:
                    f.write("5")
            except OSError:
                pass

    def cpu_ns(self) -> int:
        return sum(proc_cpu_ns(pid) for pid in self.measured_pids())

    def alive(self) -> bool:
        return all(p.popen and p.popen.poll() is None for p in self.procs)


# --------------------------------------------------------------------------------------------
# Load: wrk (throughput, latency under saturation) and oha (latency at a fixed rate).


@dataclass
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non2xx: int
    errors: int
    other_cpu: float  # % of one core used by neither the stack nor the load generator
    server_cpu: float  # % of one core used by the stack
    load_cpu: float  # % of one core used by the load generator
    loadavg: str
    note: str = ""


def parse_duration_ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not m:
        raise ValueError(text)
    value, unit = float(m.group(1)), m.group(2)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def measured(cmd: list[str], stack: Stack) -> tuple[str, dict]:
    """Runs the load generator pinned to its CPU; returns its output and the CPU accounting."""
    before_cpu, before_stack, avg = cpu_times(), stack.cpu_ns(), loadavg()
    start = time.monotonic()
    child = subprocess.Popen(
        ["taskset", "-c", LOAD_CPU, *cmd],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    out = b""
    # Read everything, then reap with wait4 for the generator's own CPU time.
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.monotonic() - start
    after_cpu, after_stack = cpu_times(), stack.cpu_ns()
    busy = sum(a[0] - b[0] for a, b in zip(after_cpu, before_cpu)) / CLK_TCK
    stack_s = (after_stack - before_stack) / 1e9
    load_s = usage.ru_utime + usage.ru_stime
    text = out.decode(errors="replace")
    if child.returncode != 0:
        die(f"{' '.join(cmd[:3])}… failed ({child.returncode}):\n{text[-3000:]}")
    return text, {
        "other_cpu": max(0.0, busy - stack_s - load_s) / elapsed * 100,
        "server_cpu": stack_s / elapsed * 100,
        "load_cpu": load_s / elapsed * 100,
        "loadavg": avg,
    }


def wrk(stack: Stack, url: str, seconds: float, headers: dict, script: list[str] | None) -> Load:
    cmd = ["wrk", f"-t{WRK_THREADS}", f"-c{CONNECTIONS}", f"-d{max(1, round(seconds))}s", "--latency"]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    if script:
        cmd += ["-s", script[0], url, "--", *script[1:]]
    else:
        cmd.append(url)
    text, cpu = measured(cmd, stack)
    try:
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
        requests = int(re.search(r"(\d+) requests in", text).group(1))
        lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", text, re.M))
        p50, p99 = parse_duration_ms(lat["50"]), parse_duration_ms(lat["99"])
    except (AttributeError, KeyError, ValueError):
        die(f"cannot read wrk's output:\n{text}")
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    non2xx = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    errors = sum(int(x) for x in m.groups()) if m else 0
    note = ""
    m = re.search(r"^TOKENS used=(\d+) of=(\d+) wrapped=(\d+)", text, re.M)
    if m and int(m.group(3)) > 0:
        note = f"token file wrapped {m.group(3)}x: some tokens repeated"
    return Load(rps, p50, p99, requests, non2xx, errors, note=note, **cpu)


def oha_bin() -> Path | None:
    p = TOOLS / "bin" / "oha"
    return p if p.exists() else (Path(shutil.which("oha")) if shutil.which("oha") else None)


def oha(stack: Stack, url: str, seconds: float, rate: float, headers: dict) -> Load:
    cmd = [str(oha_bin()), "-z", f"{seconds}s", "-q", str(int(rate)), "-c", str(CONNECTIONS),
           "--latency-correction", "--no-tui", "--output-format", "json"]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    cmd.append(url)
    text, cpu = measured(cmd, stack)
    try:
        data = json.loads(text[text.index("{"):])
        summary, pct = data["summary"], data["latencyPercentiles"]
        codes = data.get("statusCodeDistribution", {})
        requests = sum(int(v) for v in codes.values())
        errors = sum(int(v) for v in data.get("errorDistribution", {}).values())
        return Load(
            rps=summary["requestsPerSec"],
            p50_ms=pct["p50"] * 1000,
            p99_ms=pct["p99"] * 1000,
            requests=requests,
            non2xx=sum(int(v) for k, v in codes.items() if not k.startswith("2")),
            errors=errors,
            **cpu,
        )
    except (ValueError, KeyError, TypeError):
        die(f"cannot read oha's output:\n{text[-3000:]}")


# --------------------------------------------------------------------------------------------
# Scenarios.


@dataclass
class Scenario:
    name: str
    label: str  # what it does, for the table
    kind: str  # "baseline", "warden", "peer", "diagnostic"
    job: str  # what is compared in the chart: "jwt", "unique", "401", …
    stack: object  # () -> list[Proc]
    port: object  # () -> int, the port the load goes to
    path: str
    headers: dict = field(default_factory=dict)
    expect: int = 200
    challenge: bool = False  # a 401 must carry `WWW-Authenticate: Bearer realm=…`
    unique: bool = False  # every request a fresh token (wrk Lua script)
    half_load: bool = False  # also p99 at half of the measured peak, with oha
    needs: tuple = ()
    rss_of: str = "stack"  # which processes count: the whole stack


@dataclass
class Result:
    scenario: Scenario
    runs: list[Load]
    idle_kib: list[int]
    peak_kib: list[int]
    start_peak_kib: list[int] = field(default_factory=list)
    half: Load | None = None
    skipped: str = ""

    def med(self, attr: str) -> float:
        return statistics.median(getattr(r, attr) for r in self.runs)

    @property
    def rps(self) -> float:
        return self.med("rps")

    @property
    def p50(self) -> float:
        return self.med("p50_ms")

    @property
    def p99(self) -> float:
        return self.med("p99_ms")

    @property
    def per_cpu_s(self) -> float:
        """Requests per CPU-second of the stack: the cost of a request, whatever share of CPU 0
        the stack got while other work ran."""
        return statistics.median(r.rps / max(r.server_cpu, 1e-9) * 100 for r in self.runs)

    @property
    def idle(self) -> float:
        return statistics.median(self.idle_kib)

    @property
    def peak(self) -> float:
        return statistics.median(self.peak_kib)


class Bench:
    def __init__(self, args):
        self.args = args
        self.ports = {}
        self.tokens = {}
        self.api_key = ""
        self.results: list[Result] = []
        self.criterion = {}
        self.extra_notes: list[str] = []
        self.hyper_at_warden_half: Load | None = None

    def port(self, name: str) -> int:
        if name not in self.ports:
            self.ports[name] = free_port()
        return self.ports[name]

    # ---- preparation -----------------------------------------------------------------------

    def check_tools(self) -> None:
        self.missing = {t for t in ["wrk", "nginx", "caddy", "node", "npm", "openssl", "taskset", "cargo"]
                        if not shutil.which(t) and not Path(f"/usr/sbin/{t}").exists()}
        for hard in ["wrk", "taskset", "cargo", "openssl"]:
            if hard in self.missing:
                die(f"{hard} not found (Debian: apt-get install -y wrk util-linux openssl; Rust: rustup)")
        if self.missing:
            log(f"not found, their rows are skipped: {', '.join(sorted(self.missing))}")
        if os.cpu_count() < 2:
            die("needs two CPUs: the server on CPU 0, the load generator on CPU 1")

    def build(self) -> None:
        log("building warden (release) and the bench helpers…")
        run(["cargo", "build", "--release", "--quiet", "-p", "warden-cli"], cwd=ROOT)
        run(["cargo", "build", "--release", "--quiet", "--bins"], cwd=BENCH)
        run(["cargo", "bench", "--quiet", "--no-run"], cwd=BENCH, stderr=subprocess.DEVNULL)
        if "npm" not in self.missing and "node" not in self.missing:
            lock = EXPRESS / "node_modules" / ".package-lock.json"
            if not lock.exists() or lock.stat().st_mtime < (EXPRESS / "package-lock.json").stat().st_mtime:
                log("npm ci (Express peer)…")
                run(["npm", "ci", "--no-audit", "--no-fund", "--silent"], cwd=EXPRESS)
        if not oha_bin():
            log("oha not found: p99 at half load is skipped (cargo install oha --locked --root bench/.tools)")

    def prepare(self, unique_count: int) -> None:
        shutil.rmtree(WORK, ignore_errors=True)
        for d in ["logs", "data", "static/private", "static/admin", "nginx"]:
            (WORK / d).mkdir(parents=True)
        os.chmod(WORK, 0o755)
        for f in ["static/private/x", "static/admin/x"]:
            (WORK / f).write_text("ok\n")
        # The signing key: EC P-256, PKCS#8 PEM.
        ec = run(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout"], capture_output=True).stdout
        pem = run(["openssl", "pkcs8", "-topk8", "-nocrypt"], input=ec, capture_output=True).stdout
        (WORK / "key.pem").write_bytes(pem)
        mint = [str(BIN / "mint"), "--key", str(WORK / "key.pem"), "--kid", KID,
                "--issuer", ISSUER, "--audience", AUDIENCE]
        run(mint + ["--jwks", str(WORK / "jwks.json"), "--out", str(WORK / "token-admin.txt"),
                    "--roles", "admin"])
        run(mint + ["--out", str(WORK / "token-viewer.txt"), "--roles", "viewer", "--sub", "viewer"])
        log(f"minting {unique_count:,} unique tokens…")
        run(mint + ["--out", str(WORK / "tokens-unique.txt"), "--roles", "admin", "--sub", "user",
                    "--count", str(unique_count)])
        self.unique_count = unique_count
        self.tokens["admin"] = (WORK / "token-admin.txt").read_text().strip()
        self.tokens["viewer"] = (WORK / "token-viewer.txt").read_text().strip()
        # warden: decision server, and reverse proxy in front of the hyper baseline.
        (WORK / "warden.toml").write_text(self.warden_toml(self.port("warden")))
        (WORK / "warden-proxy.toml").write_text(self.warden_toml(
            self.port("warden-proxy"), upstream=f"http://127.0.0.1:{self.port('upstream')}"))
        w = [str(WARDEN), "--config", str(WORK / "warden.toml")]
        run(w + ["user", "add", BASIC_USER, "--role", "admin", "--password-stdin"],
            input=BASIC_PASSWORD.encode(), capture_output=True)
        out = run(w + ["key", "create", "--name", "bench", "--role", "admin"], capture_output=True).stdout.decode()
        m = re.search(r"\bwdn_[A-Za-z0-9_\-]+", out)
        if not m:
            die(f"no wdn_ key in `warden key create` output:\n{out}")
        self.api_key = m.group(0)
        # Basic for the peers: bcrypt for Caddy; {SHA} and apr1 for nginx.
        if "caddy" not in self.missing:
            h = run(["caddy", "hash-password", "--plaintext", BASIC_PASSWORD], capture_output=True).stdout.decode().strip()
            (WORK / "Caddyfile").write_text(self.caddyfile(h))
        sha = base64.b64encode(hashlib.sha1(BASIC_PASSWORD.encode()).digest()).decode()
        (WORK / "htpasswd-sha").write_text(f"{BASIC_USER}:{{SHA}}{sha}\n")
        apr1 = run(["openssl", "passwd", "-apr1", BASIC_PASSWORD], capture_output=True).stdout.decode().strip()
        (WORK / "htpasswd-apr1").write_text(f"{BASIC_USER}:{apr1}\n")
        for f in WORK.rglob("*"):
            os.chmod(f, 0o755 if f.is_dir() else 0o644)

    def warden_toml(self, port: int, upstream: str | None = None) -> str:
        up = f'upstream = "{upstream}"\n' if upstream else ""
        return f"""# Generated by bench/run.py.
version = 1

[server]
listen = "127.0.0.1:{port}"
realm = "{REALM}"
data_dir = "./data"
{up}
[authn.jwt]
jwks_file = "jwks.json"
issuer = "{ISSUER}"
audience = "{AUDIENCE}"

[authn.basic]

[authn.api_key]
header = "X-API-Key"

[network]
trusted_proxies = ["127.0.0.1/32"]

[[rule]]
name = "private"
path = "/private/**"
require = "authenticated"

[[rule]]
name = "admin"
path = "/admin/**"
require = {{ roles = ["admin"] }}
"""

    def caddyfile(self, hashed: str) -> str:
        return f"""# Generated by bench/run.py: Caddy's basicauth (bcrypt) on /private/*, then 200.
{{
	admin off
	auto_https off
}}
http://127.0.0.1:{self.port('caddy')} {{
	bind 127.0.0.1
	basicauth /private/* {{
		{BASIC_USER} {hashed}
	}}
	respond "ok" 200
}}
"""

    def nginx_conf(self, name: str, port: int, body: str, upstreams: str = "") -> Path:
        prefix = WORK / "nginx" / name
        prefix.mkdir(parents=True, exist_ok=True)
        user = "user root root;\n" if os.geteuid() == 0 else ""
        conf = f"""# Generated by bench/run.py.
{user}worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    server_tokens off;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    default_type text/plain;
{upstreams}
    server {{
        listen 127.0.0.1:{port};
        root {WORK / 'static'};
{body}
    }}
}}
"""
        path = prefix / "nginx.conf"
        path.write_text(conf)
        return path

    # ---- stacks ----------------------------------------------------------------------------

    def nginx_proc(self, name: str, port: int, body: str, upstreams: str = "") -> Proc:
        conf = self.nginx_conf(name, port, body, upstreams)
        return Proc(name, ["nginx", "-p", str(conf.parent) + "/", "-c", str(conf), "-g", "daemon off;"],
                    ready=(port, "/"))

    def auth_request_body(self, target: str) -> tuple[str, str]:
        """nginx `auth_request` as in examples/nginx (reduced to what the benchmark needs), with
        keep-alive connections to the auth server."""
        upstreams = f"""    upstream auth {{
        server 127.0.0.1:{self.port('auth')};
        keepalive 32;
    }}"""
        body = f"""        location / {{
            auth_request /.auth;
            auth_request_set $auth_status  $upstream_http_x_warden_status;
            auth_request_set $auth_subject $upstream_http_x_auth_subject;
            auth_request_set $auth_roles   $upstream_http_x_auth_roles;
            add_header X-Auth-Subject $auth_subject;
            try_files $uri =404;
        }}
        location = /.auth {{
            internal;
            proxy_pass http://auth{target};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Original-URI $request_uri;
            proxy_set_header X-Original-Method $request_method;
            proxy_set_header Host $http_host;
        }}"""
        return body, upstreams

    def warden_proc(self, name="warden", config="warden.toml", port_name="warden", env=None) -> Proc:
        return Proc(name, [str(WARDEN), "--config", str(WORK / config), "serve"], env=env,
                    ready=(self.port(port_name), "/.warden/health"))

    def axum_proc(self, port: int) -> Proc:
        return Proc("axum-peer", [str(BIN / "axum-peer"), "--port", str(port), "--jwks", str(WORK / "jwks.json"),
                                  "--issuer", ISSUER, "--audience", AUDIENCE, "--realm", REALM],
                    ready=(port, "/private/x"))

    def express_proc(self) -> Proc:
        port = self.port("express")
        return Proc("express", ["node", "server.js", "--port", str(port), "--jwks", str(WORK / "jwks.json"),
                                "--issuer", ISSUER, "--audience", AUDIENCE, "--realm", REALM],
                    cwd=EXPRESS, ready=(port, "/private/x"))

    def scenarios(self) -> list[Scenario]:
        admin = {"Authorization": f"Bearer {self.tokens['admin']}"}
        viewer = {"Authorization": f"Bearer {self.tokens['viewer']}"}
        basic = {"Authorization": "Basic " + base64.b64encode(f"{BASIC_USER}:{BASIC_PASSWORD}".encode()).decode()}
        apikey = {"X-API-Key": self.api_key}
        P = self.port
        hyper = lambda: [Proc("hyper", [str(BIN / "baseline"), "--port", str(P("hyper"))], ready=(P("hyper"), "/"))]
        hyper_auto = lambda: [Proc("hyper-auto", [str(BIN / "baseline"), "--port", str(P("hyper-auto")), "--auto"],
                                   ready=(P("hyper-auto"), "/"))]
        warden = lambda: [self.warden_proc()]
        warden_quiet = lambda: [self.warden_proc(env={"WARDEN_LOG": "warn"})]
        axum = lambda: [self.axum_proc(P("axum"))]
        express = lambda: [self.express_proc()]

        def nginx_return():
            return [self.nginx_proc("nginx-return", P("nginx-return"), '        location / { return 200 "ok\\n"; }')]

        def nginx_static():
            return [self.nginx_proc("nginx-static", P("nginx-static"), "        location / { }")]

        def nginx_basic(kind):
            def stack():
                body = f"""        location / {{
            auth_basic "{REALM}";
            auth_basic_user_file {WORK / ('htpasswd-' + kind)};
        }}"""
                return [self.nginx_proc(f"nginx-basic-{kind}", P(f"nginx-basic-{kind}"), body)]
            return stack

        def nginx_warden():
            body, ups = self.auth_request_body("/.warden/nginx")
            (WORK / "warden-auth.toml").write_text(self.warden_toml(P("auth")))
            return [self.warden_proc("warden-auth", "warden-auth.toml", "auth"),
                    self.nginx_proc("nginx-auth-warden", P("nginx-auth-warden"), body, ups)]

        def nginx_axum():
            body, ups = self.auth_request_body("$request_uri")
            return [self.axum_proc(P("auth")), self.nginx_proc("nginx-auth-axum", P("nginx-auth-axum"), body, ups)]

        def warden_proxy():
            return [Proc("upstream", [str(BIN / "baseline"), "--port", str(P("upstream"))], ready=(P("upstream"), "/")),
                    self.warden_proc("warden-proxy", "warden-proxy.toml", "warden-proxy")]

        def caddy():
            env = {"XDG_DATA_HOME": str(WORK / "caddy"), "XDG_CONFIG_HOME": str(WORK / "caddy")}
            return [Proc("caddy", ["caddy", "run", "--config", str(WORK / "Caddyfile"), "--adapter", "caddyfile"],
                         env=env, ready=(P("caddy"), "/"))]

        S = Scenario
        return [
            S("hyper", "bare hyper, 200 (the ceiling)", "baseline", "ceiling", hyper, lambda: P("hyper"), "/private/x",
              half_load=True),
            S("nginx-return", "nginx `return 200`", "baseline", "ceiling", nginx_return, lambda: P("nginx-return"),
              "/private/x", needs=("nginx",)),
            S("nginx-static", "nginx static file (no auth)", "baseline", "ceiling", nginx_static,
              lambda: P("nginx-static"), "/private/x", needs=("nginx",)),
            S("warden-jwt", "warden: valid ES256 JWT (same token)", "warden", "jwt", warden, lambda: P("warden"),
              "/private/x", admin, half_load=True),
            S("warden-unique", "warden: valid JWT, a fresh token every request", "warden", "unique", warden,
              lambda: P("warden"), "/private/x", unique=True),
            S("warden-401", "warden: no credentials → 401", "warden", "401", warden, lambda: P("warden"),
              "/private/x", expect=401, challenge=True),
            S("warden-403", "warden: valid JWT, wrong role → 403", "warden", "403", warden, lambda: P("warden"),
              "/admin/x", viewer, expect=403),
            S("warden-basic", "warden: Basic (argon2id store)", "warden", "basic", warden, lambda: P("warden"),
              "/private/x", basic),
            S("warden-apikey", "warden: API key (X-API-Key)", "warden", "apikey", warden, lambda: P("warden"),
              "/private/x", apikey),
            S("nginx-auth-warden", "nginx auth_request → warden /.warden/nginx (valid JWT)", "warden", "nginx",
              nginx_warden, lambda: P("nginx-auth-warden"), "/private/x", admin, needs=("nginx",)),
            S("warden-proxy", "warden proxy mode → hyper upstream (valid JWT)", "warden", "proxy", warden_proxy,
              lambda: P("warden-proxy"), "/private/x", admin),
            S("axum-jwt", "axum + jsonwebtoken: valid JWT", "peer", "jwt", axum, lambda: P("axum"), "/private/x", admin),
            S("axum-unique", "axum + jsonwebtoken: fresh token every request", "peer", "unique", axum,
              lambda: P("axum"), "/private/x", unique=True),
            S("axum-401", "axum + jsonwebtoken: no credentials → 401", "peer", "401", axum, lambda: P("axum"),
              "/private/x", expect=401, challenge=True),
            S("axum-403", "axum + jsonwebtoken: wrong role → 403", "peer", "403", axum, lambda: P("axum"),
              "/admin/x", viewer, expect=403),
            S("nginx-auth-axum", "nginx auth_request → axum peer (valid JWT)", "peer", "nginx", nginx_axum,
              lambda: P("nginx-auth-axum"), "/private/x", admin, needs=("nginx",)),
            S("express-jwt", "Express + jsonwebtoken: valid JWT", "peer", "jwt", express, lambda: P("express"),
              "/private/x", admin, needs=("node", "npm")),
            S("express-unique", "Express + jsonwebtoken: fresh token every request", "peer", "unique", express,
              lambda: P("express"), "/private/x", unique=True, needs=("node", "npm")),
            S("express-401", "Express + jsonwebtoken: no credentials → 401", "peer", "401", express,
              lambda: P("express"), "/private/x", expect=401, challenge=True, needs=("node", "npm")),
            S("express-403", "Express + jsonwebtoken: wrong role → 403", "peer", "403", express, lambda: P("express"),
              "/admin/x", viewer, expect=403, needs=("node", "npm")),
            S("caddy-basic", "Caddy 2.6 basicauth (bcrypt)", "peer", "basic", caddy, lambda: P("caddy"),
              "/private/x", basic, needs=("caddy",)),
            S("nginx-basic-sha", "nginx auth_basic, {SHA} htpasswd", "peer", "basic", nginx_basic("sha"),
              lambda: P("nginx-basic-sha"), "/private/x", basic, needs=("nginx",)),
            S("nginx-basic-apr1", "nginx auth_basic, apr1 (MD5) htpasswd", "peer", "basic", nginx_basic("apr1"),
              lambda: P("nginx-basic-apr1"), "/private/x", basic, needs=("nginx",)),
            S("hyper-auto", "diagnostic: bare hyper with hyper-util's auto (h1+h2) builder, as warden", "diagnostic",
              "ceiling", hyper_auto, lambda: P("hyper-auto"), "/private/x"),
            S("warden-jwt-quiet", "diagnostic: warden valid JWT with WARDEN_LOG=warn (no decision log)",
              "diagnostic", "jwt", warden_quiet, lambda: P("warden"), "/private/x", admin),
        ]

    # ---- running ---------------------------------------------------------------------------

    def check_answer(self, s: Scenario, port: int) -> None:
        headers = dict(s.headers)
        if s.unique:
            with open(WORK / "tokens-unique.txt") as f:
                headers["Authorization"] = "Bearer " + f.readline().strip()
        status, got = http_get(port, s.path, headers)
        if status != s.expect:
            die(f"{s.name}: GET {s.path} answered {status}, expected {s.expect}")
        if s.challenge and not any(v.startswith(f'Bearer realm="{REALM}"') for v in got.get("www-authenticate", [])):
            die(f"{s.name}: the 401 has no `Bearer realm=\"{REALM}\"` challenge: {got}")

    def unique_script(self, offset: int = 0) -> list[str]:
        return [str(BENCH / "tokens.lua"), str(WORK / "tokens-unique.txt"), str(WRK_THREADS), str(offset)]

    def one(self, s: Scenario) -> Result:
        missing = [t for t in s.needs if t in self.missing]
        if missing:
            return Result(s, [], [], [], skipped=f"{', '.join(missing)} not found")
        a = self.args
        port_fn = s.port
        result = Result(s, [], [], [])
        url = f"http://127.0.0.1:{port_fn()}{s.path}"
        # Unique tokens: a fresh server for every run, so no run finds the previous one's
        # tokens in a cache; every other scenario: one server, warmed up, then the runs.
        restarts = a.runs if s.unique else 1
        per_stack = 1 if s.unique else a.runs
        for _ in range(restarts):
            with Stack(s.stack()) as stack:
                time.sleep(0.3)
                result.idle_kib.append(stack.rss_kib("VmRSS"))
                result.start_peak_kib.append(stack.rss_kib("VmHWM"))
                stack.reset_peak()
                self.check_answer(s, port_fn())
                # Warm-up (not counted): the same request, except the unique scenarios, which
                # warm up with the one repeated token so none of the fresh tokens is seen early.
                warm = s.headers or ({"Authorization": f"Bearer {self.tokens['admin']}"} if s.unique else {})
                wrk(stack, url, a.warmup, warm, None)
                for _ in range(per_stack):
                    script = self.unique_script() if s.unique else None
                    result.runs.append(wrk(stack, url, a.duration, s.headers, script))
                if s.half_load and oha_bin() and not a.quick:
                    rate = statistics.median(r.rps for r in result.runs) / 2
                    result.half = oha(stack, url, a.duration, rate, s.headers)
                if not stack.alive():
                    die(f"{s.name}: a server exited during the load:\n" + "\n".join(p.tail() for p in stack.procs))
                result.peak_kib.append(stack.rss_kib("VmHWM"))
        for r in result.runs:
            if r.requests == 0:
                r.note = (r.note + "; " if r.note else "") + "no answer completed during the run"
            if s.expect == 200 and r.non2xx:
                r.note = (r.note + "; " if r.note else "") + f"{r.non2xx} non-2xx answers"
            if s.expect != 200 and r.non2xx != r.requests:
                r.note = (r.note + "; " if r.note else "") + f"{r.requests - r.non2xx} 2xx answers"
            if r.errors:
                r.note = (r.note + "; " if r.note else "") + f"{r.errors} socket errors"
        return result

    def cache_scenario(self) -> dict | None:
        """warden's RSS with 100 000 distinct valid tokens cached: sends each of the first
        100 000 minted tokens once (and keeps cycling until wrk's time is up), then reads VmHWM."""
        unique = next((r for r in self.results if r.scenario.name == "warden-unique" and r.runs), None)
        if not unique:
            return None
        rate = max(unique.rps, 1000.0)
        seconds = min(60, int(CACHE_TOKENS / rate * 1.3) + 2)
        subset = WORK / "tokens-100k.txt"
        with open(WORK / "tokens-unique.txt") as src, open(subset, "w") as dst:
            for i, line in enumerate(src):
                if i >= CACHE_TOKENS:
                    break
                dst.write(line)
        url = f"http://127.0.0.1:{self.port('warden')}/private/x"
        with Stack([self.warden_proc()]) as stack:
            time.sleep(0.3)
            idle = stack.rss_kib("VmRSS")
            stack.reset_peak()
            script = [str(BENCH / "tokens.lua"), str(subset), str(WRK_THREADS), "0"]
            load = wrk(stack, url, seconds, {}, script)
            time.sleep(0.2)
            peak, rss = stack.rss_kib("VmHWM"), stack.rss_kib("VmRSS")
        return {"seconds": seconds, "requests": load.requests, "idle": idle, "peak": peak,
                "rss_after": rss, "complete": load.requests >= CACHE_TOKENS, "load": load}

    def run_criterion(self) -> None:
        """ES256 verification and the engine's decide, each on CPU 0."""
        a = self.args
        times = ["--warm-up-time", "0.5", "--measurement-time", "1"] if a.quick else \
                ["--warm-up-time", "1", "--measurement-time", "3"]
        for bench in ["verify", "decide"]:
            log(f"criterion: {bench}…")
            run(["taskset", "-c", SERVER_CPU, "cargo", "bench", "--quiet", "--bench", bench, "--", *times],
                cwd=BENCH, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = BENCH / "target" / "criterion"
        for est in sorted(base.glob("*/*/new/estimates.json")):
            data = json.loads(est.read_text())
            group, fn = est.parts[-4], est.parts[-3]
            self.criterion[f"{group}/{fn}"] = {
                "median_ns": data["median"]["point_estimate"],
                "lo_ns": data["median"]["confidence_interval"]["lower_bound"],
                "hi_ns": data["median"]["confidence_interval"]["upper_bound"],
            }


# --------------------------------------------------------------------------------------------
# Reporting.


def mib(kib: float) -> str:
    return f"{kib / 1024:.1f} MiB"


def ratio(x: float, base: float) -> str:
    return f"{x / base:.2f}×" if base else "–"


def machine() -> dict:
    def out(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True).stdout.strip() or \
                   subprocess.run(cmd, capture_output=True, text=True).stderr.strip()
        except OSError:
            return "not found"
    lscpu = out(["lscpu"])
    model = re.search(r"Model name:\s+(.*)", lscpu)
    nginx = out(["nginx", "-v"]) if shutil.which("nginx") or Path("/usr/sbin/nginx").exists() else "not found"
    commit = out(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    dirty = out(["git", "-C", str(ROOT), "status", "--porcelain", "--", "crates"])
    return {
        "commit": commit + (" (with uncommitted changes under crates/)" if dirty and "fatal" not in dirty else ""),
        "cpu": model.group(1) if model else platform.processor(),
        "cpus": os.cpu_count(),
        "kernel": platform.release(),
        "os": out(["sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"]),
        "rustc": out(["rustc", "--version"]),
        "nginx": nginx.replace("nginx version: ", ""),
        "caddy": out(["caddy", "version"]).split()[0] if shutil.which("caddy") else "not found",
        "node": out(["node", "--version"]) if shutil.which("node") else "not found",
        "wrk": out(["wrk", "-v"]).splitlines()[0] if shutil.which("wrk") else "not found",
        "oha": out([str(oha_bin()), "--version"]) if oha_bin() else "not found",
        "express": json.loads((EXPRESS / "node_modules/express/package.json").read_text())["version"]
        if (EXPRESS / "node_modules/express/package.json").exists() else "?",
        "jsonwebtoken_npm": json.loads((EXPRESS / "node_modules/jsonwebtoken/package.json").read_text())["version"]
        if (EXPRESS / "node_modules/jsonwebtoken/package.json").exists() else "?",
    }


class Report:
    def __init__(self, bench: Bench, cache: dict | None, started: float, command: str):
        self.b = bench
        self.cache = cache
        self.by = {r.scenario.name: r for r in bench.results if r.runs}
        self.hyper = self.by.get("hyper")
        self.elapsed = time.monotonic() - started
        self.command = command

    def base(self, attr: str) -> float:
        if not self.hyper:
            return 0.0
        return getattr(self.hyper, attr)

    def table(self) -> str:
        rows = ["| scenario | req/s (× hyper) | req per CPU-s (× hyper) | p50 ms (×) | p99 ms (×) | idle RSS (×) "
                "| peak RSS under load (×) | server CPU | other CPU | notes |",
                "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
        for r in self.b.results:
            s = r.scenario
            if r.skipped:
                rows.append(f"| `{s.name}` {s.label} | skipped: {r.skipped} | | | | | | | | |")
                continue
            other = statistics.median(x.other_cpu for x in r.runs)
            server = statistics.median(x.server_cpu for x in r.runs)
            notes = "; ".join(sorted({x.note for x in r.runs if x.note}))
            spread = f"{min(x.rps for x in r.runs):,.0f}–{max(x.rps for x in r.runs):,.0f}" if len(r.runs) > 1 else ""
            notes = "; ".join(filter(None, [f"runs {spread} req/s" if spread else "", notes]))
            rows.append(
                f"| `{s.name}` {s.label} | {r.rps:,.0f} ({ratio(r.rps, self.base('rps'))}) "
                f"| {r.per_cpu_s:,.0f} ({ratio(r.per_cpu_s, self.base('per_cpu_s'))}) "
                f"| {r.p50:.2f} ({ratio(r.p50, self.base('p50'))}) | {r.p99:.2f} ({ratio(r.p99, self.base('p99'))}) "
                f"| {mib(r.idle)} ({ratio(r.idle, self.base('idle'))}) | {mib(r.peak)} ({ratio(r.peak, self.base('peak'))}) "
                f"| {server:.0f} % | {other:.0f} % | {notes} |")
        return "\n".join(rows)

    def half_table(self) -> str:
        rows = ["| scenario | rate asked | req/s done | p50 ms | p99 ms | oha CPU | other CPU |",
                "|---|---:|---:|---:|---:|---:|---:|"]
        for r in self.b.results:
            if r.half:
                h = r.half
                rows.append(f"| `{r.scenario.name}` | {r.rps / 2:,.0f} (½ of its peak) | {h.rps:,.0f} | {h.p50_ms:.3f} "
                            f"| {h.p99_ms:.3f} | {h.load_cpu:.0f} % | {h.other_cpu:.0f} % |")
        h = self.b.hyper_at_warden_half
        w = self.by.get("warden-jwt")
        if h and w:
            rows.append(f"| `hyper` at warden's rate | {w.rps / 2:,.0f} (½ of `warden-jwt`'s peak) | {h.rps:,.0f} "
                        f"| {h.p50_ms:.3f} | {h.p99_ms:.3f} | {h.load_cpu:.0f} % | {h.other_cpu:.0f} % |")
        return "\n".join(rows) if len(rows) > 2 else "(not measured: oha not found, or --quick)"

    def criterion_table(self) -> str:
        rows = ["| bench | median | 95 % CI | per second on one core |", "|---|---:|---:|---:|"]
        for name, c in self.b.criterion.items():
            rows.append(f"| `{name}` | {fmt_ns(c['median_ns'])} | {fmt_ns(c['lo_ns'])} – {fmt_ns(c['hi_ns'])} "
                        f"| {1e9 / c['median_ns']:,.0f} |")
        return "\n".join(rows)

    def targets(self) -> list[tuple]:
        """(target, measured, per CPU-s, wanted, met, met per CPU-s)."""
        by, out = self.by, []

        def ratio_row(what, r, base_rps, base_cpu, threshold, label):
            if r and base_rps:
                v, c = r.rps / base_rps, r.per_cpu_s / base_cpu
                out.append((what, f"{v:.2f}× ({r.rps:,.0f} / {base_rps:,.0f} {label})", f"{c:.2f}×",
                            f"≥ {threshold}×", v >= threshold, c >= threshold))
            else:
                out.append((what, "not measured", "", f"≥ {threshold}×", None, None))

        h = self.hyper
        hr, hc = (h.rps, h.per_cpu_s) if h else (0, 0)
        ratio_row("repeated valid JWT vs bare hyper", by.get("warden-jwt"), hr, hc, 0.8, "req/s")
        verify = self.b.criterion.get("es256/warden_jwt_verify")
        bound = 1e9 / verify["median_ns"] if verify else 0
        ratio_row("unique tokens vs the ES256 bound (1 / `warden_core::jwt::verify` CPU time)",
                  by.get("warden-unique"), bound, bound, 0.9, "req/s")
        ratio_row("401 (no credentials) vs bare hyper", by.get("warden-401"), hr, hc, 0.9, "req/s")
        ratio_row("403 (wrong role) vs bare hyper", by.get("warden-403"), hr, hc, 0.9, "req/s")
        ratio_row("Basic valid vs bare hyper", by.get("warden-basic"), hr, hc, 0.8, "req/s")
        ratio_row("API key valid vs bare hyper", by.get("warden-apikey"), hr, hc, 0.8, "req/s")
        na = by.get("nginx-auth-axum")
        ratio_row("nginx auth_request → warden vs → axum peer", by.get("nginx-auth-warden"),
                  na.rps if na else 0, na.per_cpu_s if na else 0, 2, "req/s")
        w = by.get("warden-jwt")
        if w:
            out.append(("warden idle RSS (VmRSS after start)", mib(w.idle), "", "≤ 20 MiB", w.idle <= 20 * 1024, None))
            start = statistics.median(w.start_peak_kib)
            out.append(("(information) warden VmHWM at start-up, before any request", mib(start), "", "–", None, None))
        alone = [by[n] for n in ["warden-jwt", "warden-401", "warden-403", "warden-basic", "warden-apikey"] if n in by]
        if alone:
            worst = max(alone, key=lambda r: r.peak)
            out.append(("warden peak RSS under load (VmHWM reset after start; worst of jwt/401/403/basic/apikey)",
                        f"{mib(worst.peak)} (`{worst.scenario.name}`)", "", "≤ 32 MiB", worst.peak <= 32 * 1024, None))
            others = [r for r in alone if r.scenario.name != "warden-basic"]
            if others and worst.scenario.name == "warden-basic":
                w2 = max(others, key=lambda r: r.peak)
                out.append(("the same without Basic", f"{mib(w2.peak)} (`{w2.scenario.name}`)", "", "≤ 32 MiB",
                            w2.peak <= 32 * 1024, None))
        if self.cache:
            c = self.cache
            ok = c["peak"] <= 64 * 1024 and c["complete"]
            out.append(("warden peak RSS with 100 000 cached tokens",
                        f"{mib(c['peak'])} after {c['requests']:,} requests"
                        + ("" if c["complete"] else " (fewer than 100 000: incomplete)"), "", "≤ 64 MiB", ok, None))
        else:
            out.append(("warden peak RSS with 100 000 cached tokens", "not measured", "", "≤ 64 MiB", None, None))
        if w and w.half:
            hw = self.b.hyper_at_warden_half
            hh = f"; bare hyper at the same rate: {hw.p99_ms:.3f} ms" if hw else ""
            out.append(("warden p99 at half of peak load (valid JWT, oha, fixed rate)",
                        f"{w.half.p99_ms:.3f} ms at {w.half.rps:,.0f} req/s{hh}", "", "≤ 1 ms",
                        w.half.p99_ms <= 1.0, None))
        else:
            out.append(("warden p99 at half of peak load", "not measured", "", "≤ 1 ms", None, None))
        dec = self.b.criterion.get("decide_1000_rules/last_rule_allow")
        if dec:
            out.append(("engine decide, 1 000 rules, no signature (read + begin + finish, last rule)",
                        fmt_ns(dec["median_ns"]), "", "≤ 5 µs", dec["median_ns"] <= 5000, None))
        return out

    def targets_table(self) -> str:
        def mark(m):
            return "met" if m else ("**missed**" if m is False else "")
        rows = ["| target | measured | per CPU-s | wanted | req/s verdict | per CPU-s verdict |",
                "|---|---:|---:|---:|---|---|"]
        for what, got, cpu, want, met, cpu_met in self.targets():
            rows.append(f"| {what} | {got} | {cpu} | {want} | {mark(met)} | {mark(cpu_met)} |")
        return "\n".join(rows)

    def load_summary(self) -> str:
        loads = [x for r in self.b.results for x in r.runs]
        if not loads:
            return ""
        others = [x.other_cpu for x in loads]
        avgs = [float(x.loadavg.split()[0]) for x in loads]
        return (f"Other CPU load during the runs (CPU time used by neither the stack under test nor the "
                f"load generator, in % of one core, from /proc/stat and /proc/PID/stat): median "
                f"{statistics.median(others):.0f} %, max {max(others):.0f} %. 1-minute load average at "
                f"the start of the runs: {min(avgs):.2f} – {max(avgs):.2f}.")

    def console(self) -> str:
        lines = [self.table(), "", "p99 at half of peak load (oha):", self.half_table(), "",
                 "criterion (CPU 0):", self.criterion_table(), ""]
        if self.cache:
            c = self.cache
            lines.append(f"100 000 cached tokens: peak {mib(c['peak'])}, RSS after {mib(c['rss_after'])}, "
                         f"{c['requests']:,} requests in {c['seconds']} s")
        lines += ["", self.targets_table(), "", self.load_summary(),
                  f"total time: {self.elapsed / 60:.1f} min"]
        return "\n".join(lines)

    def markdown(self, m: dict) -> str:
        a = self.b.args
        cache = ""
        if self.cache:
            c = self.cache
            cache = (f"\n### 100 000 cached tokens\n\nA fresh warden is sent the first 100 000 minted tokens in "
                     f"order ({c['requests']:,} requests in {c['seconds']} s, "
                     f"{'all' if c['complete'] else 'not all'} of them sent at least once), then its VmHWM is "
                     f"read: **{mib(c['peak'])}** peak, {mib(c['rss_after'])} resident afterwards "
                     f"(idle before: {mib(c['idle'])}).\n")
        notes = "\n".join(f"- {n}" for n in self.b.extra_notes)
        return f"""# Benchmarks

The latest run of `bench/run.py` (written by it; see [bench/README.md](bench/README.md) for
what each scenario does). Loopback only; every server pinned to CPU 0, the load generator to
CPU 1. Every figure is also given as a ratio to the bare hyper server measured **in the same
run**: the machine is shared with other work, so absolute numbers move between runs while the
ratios hold better. The CPU time that neither the server nor the load generator used during each
run is in the "other CPU load" column.

```sh
{self.command}
```

## Machine

| | |
|---|---|
| warden | commit {m['commit']} (built at the start of the run) |
| CPU | {m['cpu']} ({m['cpus']} CPUs; KVM guest) |
| kernel | {m['kernel']} ({m['os']}) |
| Rust | {m['rustc']} (release profile) |
| nginx | {m['nginx']} |
| Caddy | {m['caddy']} |
| Node | {m['node']} (express {m['express']}, jsonwebtoken {m['jsonwebtoken_npm']}) |
| load | {m['wrk']}; {m['oha']} |

Method: `wrk -t{WRK_THREADS} -c{CONNECTIONS} -d{a.duration}s --latency` after a {a.warmup} s warm-up
on the same server, {a.runs} runs, **median** reported (p50/p99 are wrk's, under saturation).
The bare hyper baseline is measured first and again at the end of the run; its row is the
median of both sets of runs.
Idle RSS: VmRSS of the server's processes 0.3 s after it answers, before any load. Peak RSS
under load: VmHWM after the runs, reset (`/proc/PID/clear_refs`) after the idle reading so a
start-up transient does not count (for stacks of several processes, e.g. nginx + warden, the
sum). "server CPU": CPU time of the stack during the runs (`/proc/PID/task/*/schedstat`), in %
of one core; "other CPU": CPU time used by neither the stack nor the load generator, on both
CPUs (from `/proc/stat`). "req per CPU-s": requests per CPU-second of the stack, the cost of a
request whatever share of CPU 0 the stack got, which is the steadier figure on a busy machine.
Unique tokens: every request carries the next of {self.b.unique_count:,} minted tokens (a wrk
Lua script, `bench/tokens.lua`), and the server is restarted before each run so no run meets a
token cached by the previous one.

## Results

{self.table()}

### Targets

{self.targets_table()}

### p99 at half of peak load

wrk cannot pace requests, so `oha -q RATE -z {a.duration}s -c {CONNECTIONS} --latency-correction`
asks for half of the median wrk throughput just measured on the same server (latency
correction counts the time a request waited for its slot, so a stall is not hidden). The last
row asks bare hyper for warden's rate: the floor that this VM, loopback and oha put under any
server's p99 at that rate.

{self.half_table()}
{cache}
### Criterion (CPU 0)

Timed in thread CPU time (`bench/benches/cputime.rs`), pinned to CPU 0. `es256/*`: one
ES256 token of the scenarios' shape (P-256, aws-lc-rs through jsonwebtoken): the signature
alone, `jsonwebtoken::decode` (what the axum peer runs), and `warden_core::jwt::verify` (what
warden runs for a token it has not cached; its inverse is the bound for the unique-token
scenario). `decide_1000_rules/*`: `facts::read` + `Engine::begin` + `Engine::finish` with an
identity already judged, on a 1 000-rule configuration; the last row also renders the response.

{self.criterion_table()}

Where the time goes for the targets that are missed (perf and callgrind, per request):
[bench/PROFILE.md](bench/PROFILE.md).

## Chart

![requests per second as a ratio to bare hyper, warden and its peers](bench/chart.svg)

## Notes

{self.load_summary()} Whole run: {self.elapsed / 60:.1f} min.
{notes}
"""


def findings(rep: Report) -> list[str]:
    """Observations that the figures of this run support, for the Notes section."""
    by, out = rep.by, []
    w, q = by.get("warden-jwt"), by.get("warden-jwt-quiet")
    if w and q:
        extra = 1e6 / w.per_cpu_s - 1e6 / q.per_cpu_s
        cost = (f"costs about {extra:.1f} µs of CPU per request" if extra >= 0.5
                else "costs no CPU this run can tell apart from noise (it is formatted on the request "
                     "path and written by a separate thread)")
        out.append(f"The per-decision log line (`info`, the default) {cost}: "
                   f"`warden-jwt` {w.per_cpu_s:,.0f} vs `warden-jwt-quiet` {q.per_cpu_s:,.0f} requests per CPU-s.")
    h = rep.hyper
    if w and h:
        out.append(f"CPU per request: bare hyper {1e6 / h.per_cpu_s:.1f} µs, warden (valid cached JWT) "
                   f"{1e6 / w.per_cpu_s:.1f} µs, of which the engine (read, begin, finish, render) is about "
                   f"{rep.b.criterion.get('decide_1000_rules/last_rule_allow_and_render', {}).get('median_ns', 0) / 1000:.1f} µs.")
    wb = by.get("warden-basic")
    if wb and h and wb.rps < 0.01 * h.rps:
        out.append(f"`warden-basic`: {wb.rps:,.0f} req/s and a peak RSS of {mib(wb.peak)}. With {CONNECTIONS} connections "
                   "sending the same valid Basic credentials, every request that misses the 1 s success cache runs its "
                   "own argon2id verification (19 MiB each) on tokio's blocking pool: nothing makes concurrent "
                   "requests with the same credentials wait for one verification, and nothing bounds how many run "
                   "at once.")
    au, dec = by.get("axum-unique"), rep.b.criterion.get("es256/jsonwebtoken_decode")
    if au and dec:
        out.append(f"The ES256 bound leaves out the HTTP work: the axum peer, which runs nothing but "
                   f"`jsonwebtoken::decode` ({fmt_ns(dec['median_ns'])}), serves {au.per_cpu_s:,.0f} fresh tokens per "
                   f"CPU-s, {au.per_cpu_s * dec['median_ns'] / 1e9:.2f}× its own bound.")
    return out


def fmt_ns(ns: float) -> str:
    return f"{ns / 1000:.2f} µs" if ns >= 1000 else f"{ns:.0f} ns"


def chart(report: Report) -> str:
    """Grouped horizontal bars: req/s as a ratio to bare hyper, per job, warden first."""
    jobs = [("jwt", "valid JWT (same token)"), ("unique", "fresh JWT every request"), ("401", "no credentials → 401"),
            ("403", "wrong role → 403"), ("basic", "Basic, valid"), ("apikey", "API key, valid"),
            ("nginx", "nginx auth_request → …"), ("proxy", "proxy to hyper upstream")]
    colours = {"warden": "#2563eb", "axum": "#f59e0b", "express": "#16a34a", "caddy": "#9333ea",
               "nginx": "#dc2626"}
    groups = []
    for job, title in jobs:
        bars = [r for r in report.b.results if r.runs and r.scenario.job == job and r.scenario.kind in ("warden", "peer")]
        bars.sort(key=lambda r: (r.scenario.kind != "warden", r.scenario.name))
        if bars:
            groups.append((title, bars))
    base = report.hyper.rps if report.hyper else max((r.rps for _, bs in groups for r in bs), default=1)
    width, left, bar_h, gap = 860, 330, 16, 4
    plot_w = width - left - 120
    max_ratio = max([1.0] + [r.rps / base for _, bs in groups for r in bs])
    scale = plot_w / max_ratio
    y, parts = 60, []
    for title, bars in groups:
        parts.append(f'<text x="10" y="{y + 12}" font-weight="bold">{html.escape(title)}</text>')
        y += 18
        for r in bars:
            name = r.scenario.name
            who = next((k for k in colours if name.startswith(k)), "nginx")
            if r.scenario.job == "nginx":
                who = "warden" if name.endswith("warden") else "axum"
            w = max(1.0, r.rps / base * scale)
            parts.append(f'<text x="{left - 8}" y="{y + 12}" text-anchor="end">{html.escape(name)}</text>')
            parts.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colours[who]}"/>')
            parts.append(f'<text x="{left + w + 6:.1f}" y="{y + 12}">{r.rps / base:.2f}× · {r.rps:,.0f}/s</text>')
            y += bar_h + gap
        y += 10
    one = left + scale
    height = y + 30
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">'
            f'<rect width="100%" height="100%" fill="white"/>'
            f'<text x="10" y="22" font-size="15" font-weight="bold">Requests per second, as a ratio to bare hyper '
            f'({base:,.0f}/s) in the same run</text>'
            f'<text x="10" y="42" fill="#555">one server core (CPU 0), wrk on CPU 1, median of runs; higher is better</text>'
            f'<line x1="{one:.1f}" y1="50" x2="{one:.1f}" y2="{y}" stroke="#888" stroke-dasharray="4 3"/>'
            f'<text x="{one:.1f}" y="{y + 14}" text-anchor="middle" fill="#555">1× hyper</text>')
    return head + "".join(parts) + "</svg>\n"


# --------------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=int, default=5, help="seconds per run (default 5)")
    ap.add_argument("--runs", type=int, default=3, help="runs per scenario, median reported (default 3)")
    ap.add_argument("--warmup", type=int, default=1, help="warm-up seconds per server (default 1)")
    ap.add_argument("--quick", action="store_true", help="1 s x 1 run, short criterion: a smoke test")
    ap.add_argument("--only", default="", help="comma-separated scenario names (hyper is always run)")
    ap.add_argument("--no-build", action="store_true", help="use the binaries already built")
    ap.add_argument("--no-write", action="store_true", help="do not write BENCHMARKS.md and bench/chart.svg")
    ap.add_argument("--list", action="store_true", help="list the scenarios and exit")
    a = ap.parse_args()
    if a.quick:
        a.duration, a.runs, a.warmup = 1, 1, 1
    started = time.monotonic()
    command = "python3 bench/run.py" + "".join(f" {x}" for x in sys.argv[1:])
    b = Bench(a)
    if a.list:
        b.tokens = {"admin": "", "viewer": ""}
        b.missing = set()
        for s in b.scenarios():
            print(f"{s.name:20} {s.label}")
        return
    b.check_tools()
    if not a.no_build:
        b.build()
    for exe in [WARDEN, BIN / "baseline", BIN / "axum-peer", BIN / "mint"]:
        if not exe.exists():
            die(f"{exe} not built")
    b.run_criterion()
    verify = b.criterion.get("es256/warden_jwt_verify", {"median_ns": 20_000})["median_ns"]
    # Enough fresh tokens for one run at the ES256 bound with a margin, plus the 100 000 of the
    # cache scenario.
    unique_count = max(CACHE_TOKENS, int(1e9 / verify * a.duration * 1.5))
    b.prepare(unique_count)
    only = {x for x in a.only.split(",") if x}
    if only:
        only.add("hyper")
        known = {s.name for s in b.scenarios()} | {"cache"}
        if only - known:
            die(f"unknown scenario(s): {', '.join(sorted(only - known))}; see --list")
    try:
        for s in b.scenarios():
            if only and s.name not in only:
                continue
            log(f"{s.name}: {s.label}")
            r = b.one(s)
            b.results.append(r)
            if r.runs:
                log(f"  {r.rps:,.0f} req/s ({r.per_cpu_s:,.0f} per CPU-s), p50 {r.p50:.2f} ms, p99 {r.p99:.2f} ms, "
                    f"idle {mib(r.idle)}, peak {mib(r.peak)} (start-up {mib(statistics.median(r.start_peak_kib))}), "
                    f"server CPU {statistics.median(x.server_cpu for x in r.runs):.0f} %, "
                    f"other CPU {statistics.median(x.other_cpu for x in r.runs):.0f} %")
        w = next((r for r in b.results if r.scenario.name == "warden-jwt" and r.half), None)
        h = next((r for r in b.results if r.scenario.name == "hyper" and r.runs), None)
        if h and not a.quick:
            # The baseline every ratio divides by is measured again at the end, and its figures
            # are the median of both sets: one unlucky minute on a shared VM must not move every
            # ratio of the run.
            log("hyper again (the baseline, at the end of the run)")
            again = b.one(h.scenario)
            h.runs += again.runs
            h.idle_kib += again.idle_kib
            h.peak_kib += again.peak_kib
            h.start_peak_kib += again.start_peak_kib
        if w and h:
            # The floor of this machine and load generator: hyper at warden's half-peak rate.
            log(f"hyper at warden's half-peak rate ({w.rps / 2:,.0f} req/s), oha")
            s = h.scenario
            with Stack(s.stack()) as stack:
                url = f"http://127.0.0.1:{s.port()}{s.path}"
                wrk(stack, url, a.warmup, {}, None)
                b.hyper_at_warden_half = oha(stack, url, a.duration, w.rps / 2, {})
        cache = None
        if (not only or "cache" in only or "warden-unique" in only) and not a.quick:
            log("cache: 100 000 distinct tokens, then VmHWM")
            cache = b.cache_scenario()
    except KeyboardInterrupt:
        die("interrupted")
    report = Report(b, cache, started, command)
    b.extra_notes += findings(report)
    print(report.console())
    if not a.quick and not only and not a.no_write:
        (ROOT / "BENCHMARKS.md").write_text(report.markdown(machine()))
        (BENCH / "chart.svg").write_text(chart(report))
        log("wrote BENCHMARKS.md and bench/chart.svg")
    else:
        # A partial run never replaces the published figures; its report is kept for a look.
        (WORK / "BENCHMARKS.preview.md").write_text(report.markdown(machine()))
        (WORK / "chart.preview.svg").write_text(chart(report))
        log(f"partial run: report in {WORK / 'BENCHMARKS.preview.md'}")


if __name__ == "__main__":
    main()
