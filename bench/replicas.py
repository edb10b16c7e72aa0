#!/usr/bin/env python3
"""warden's replica benchmark: PostgreSQL + Redis against the embedded store, two replicas
against one, and one million API keys in PostgreSQL. One run, loopback only.

    python3 bench/replicas.py --write    # about 5 minutes; prints the tables, writes BENCHMARKS.md's "Replicas"
    python3 bench/replicas.py --quick    # 1 s x 1 run, 10 000 keys: a smoke test (writes nothing)

1. Session cookie on /private/x: the same configuration on SQLite + in-process state, and on
   PostgreSQL (fresh schema) + Redis (fresh prefix); bare hyper for context. wrk -c64.
2. The cached-JWT scenario of run.py on one warden (CPU 0, wrk on CPU 1) and on two wardens
   (CPU 0 and CPU 1, the load split over both, the two wrk processes free on both CPUs).
3. 1 000 000 API keys COPY'd into PostgreSQL, every request a different key at a fixed rate
   (bench's `fixed-rate` client, open loop, pinned to CPU 1): p99 of an uncached key check,
   and warden's RSS against the same run on 1 000 keys.

Builds on run.py (its processes, pinning, wrk, CPU accounting and JWT preparation); work files
in bench/work/replicas/; the schemas and Redis prefixes it creates are dropped at the end.
Needs what run.py needs, plus psql, redis-cli and ss, a PostgreSQL (trust auth, user postgres,
database test) and a Redis on this machine. Python standard library only; part 3's load client
is bench's `fixed-rate` binary.
"""

from __future__ import annotations

import argparse
import base64
import concurrent.futures
import hashlib
import http.client
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import run as base  # noqa: E402  (the shared machinery: Proc, Stack, wrk, measured, …)

ROOT = BENCH.parent
# A directory of its own, so this script and run.py never delete each other's files.
WORK = BENCH / "work" / "replicas"
base.WORK = WORK
PG_HOST, PG_PORT, PG_USER, PG_DB = "127.0.0.1", 5432, "postgres", "test"
REDIS_URL = "redis://127.0.0.1:6379/0"
KEY_HEADER = "X-API-Key"
SMALL_KEYS = 1_000
SESSION_COOKIE = "warden_session"
CSRF_COOKIE = "warden_csrf"
RUN_TAG = f"{os.getpid()}_{int(time.time())}"

log, die, mib = base.log, base.die, base.mib


# --------------------------------------------------------------------------------------------
# PostgreSQL and Redis: fresh schemas and prefixes, dropped at the end.


def psql(sql: str, schema: str | None = None, **kw) -> str:
    env = dict(os.environ)
    if schema:
        env["PGOPTIONS"] = f"-c search_path={schema}"
    cmd = ["psql", "-h", PG_HOST, "-p", str(PG_PORT), "-U", PG_USER, "-d", PG_DB, "-X", "-q", "-A", "-t",
           "-v", "ON_ERROR_STOP=1", "-c", sql]
    return base.run(cmd, env=env, capture_output=True, text=True, **kw).stdout.strip()


PG_SSLMODE: str | None = None  # --pg-sslmode: appended to every URL warden gets


def pg_url(schema: str) -> str:
    options = urllib.parse.quote(f"-c search_path={schema}", safe="")
    ssl = f"&sslmode={PG_SSLMODE}" if PG_SSLMODE else ""
    return f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{PG_DB}?options={options}{ssl}"


def redis_cli(*args: str) -> str:
    return base.run(["redis-cli", "-u", REDIS_URL, *args], capture_output=True, text=True).stdout


class Resources:
    """The schemas and Redis prefixes of this run, all dropped by `drop()`."""

    def __init__(self):
        self.schemas: list[str] = []
        self.prefixes: list[str] = []

    def schema(self, tag: str) -> str:
        name = f"warden_bench_{tag}_{RUN_TAG}"
        psql(f"CREATE SCHEMA {name}")
        self.schemas.append(name)
        return name

    def prefix(self, tag: str) -> str:
        p = f"warden-bench-{tag}-{RUN_TAG}:"
        self.prefixes.append(p)
        return p

    def drop(self) -> None:
        for s in self.schemas:
            try:
                psql(f"DROP SCHEMA IF EXISTS {s} CASCADE")
            except subprocess.CalledProcessError as e:
                log(f"could not drop schema {s}: {e.stderr}")
        for p in self.prefixes:
            keys = redis_cli("--scan", "--pattern", p + "*").split()
            for i in range(0, len(keys), 500):
                redis_cli("UNLINK", *keys[i:i + 500])
        if self.schemas or self.prefixes:
            log(f"dropped {len(self.schemas)} schemas and {len(self.prefixes)} Redis prefixes")


def redis_calls() -> int:
    """Script calls (EVALSHA and kin) Redis has served, machine-wide, from INFO commandstats:
    warden's attempt state is all scripts, and the commands a script runs are counted apart."""
    stats = redis_cli("INFO", "commandstats")
    return sum(int(m.group(2)) for m in re.finditer(r"^cmdstat_(evalsha|eval|evalsha_ro|eval_ro|fcall|fcall_ro)"
                                                      r":calls=(\d+)", stats, re.M))


def table_stats(schema: str) -> dict[str, tuple[int, int]]:
    """(index scans, rows updated) per table of `schema`: how often warden really asked
    PostgreSQL. The statistics reach the view within about a second of a transaction."""
    out = {}
    rows = psql(f"SELECT relname, coalesce(idx_scan, 0), n_tup_upd FROM pg_stat_user_tables "
                f"WHERE schemaname = '{schema}'")
    for line in rows.splitlines():
        name, scans, upd = line.split("|")
        out[name] = (int(scans), int(upd))
    return out


def stats_delta(before: dict, after: dict, table: str) -> tuple[int, int]:
    b, a = before.get(table, (0, 0)), after.get(table, (0, 0))
    return a[0] - b[0], a[1] - b[1]


def pg_backends(pids: list[int]) -> list[int]:
    """PostgreSQL backends serving these processes' connections: the server side of their TCP
    connections to PG_PORT, matched by port with `ss -tnp`."""
    out = subprocess.run(["ss", "-tnpH", "state", "established"], capture_output=True, text=True).stdout
    ours, servers = set(), {}
    for line in out.splitlines():
        addrs = re.findall(r"\s(\S+):(\d+)(?=\s)", " " + line + " ")
        owner = re.search(r'pid=(\d+)', line)
        if len(addrs) < 2 or not owner:
            continue
        (_, lport), (_, pport) = addrs[0], addrs[1]
        pid = int(owner.group(1))
        if int(pport) == PG_PORT and pid in pids:
            ours.add(int(lport))
        elif int(lport) == PG_PORT:
            servers[int(pport)] = pid
    return sorted({servers[p] for p in ours if p in servers})


# --------------------------------------------------------------------------------------------
# Configurations and the signed-in session.


def config(b: base.Bench, port: int, schema: str | None = None, prefix: str | None = None) -> str:
    """run.py's warden.toml (JWT, Basic, API keys, /private/** authenticated) with `[login]`,
    and with `[store]` + `[state]` when a schema is given."""
    text = b.warden_toml(port).replace("# Generated by bench/run.py.", "# Generated by bench/replicas.py.")
    if schema:
        shared = (f'[store]\nurl = "{pg_url(schema)}"\n\n'
                  f'[state]\nurl = "{REDIS_URL}"\nkey_prefix = "{prefix}"\n\n')
        text = text.replace("[authn.jwt]", shared + "[authn.jwt]", 1)
    return text.replace("[network]", "[login]\nenabled = true\n\n[network]", 1)


def warden_cli(conf: Path, *args: str, input: bytes | None = None) -> str:
    return base.run([str(base.WARDEN), "--config", str(conf), *args], input=input,
                    capture_output=True).stdout.decode()


def request(port: int, method: str, path: str, headers: dict, body: str | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.getheaders(), resp.read().decode(errors="replace")
    finally:
        conn.close()


def cookie(headers: list[tuple[str, str]], name: str) -> str | None:
    for k, v in headers:
        if k.lower() == "set-cookie" and v.startswith(name + "="):
            return v.split(";", 1)[0].split("=", 1)[1]
    return None


def sign_in(port: int) -> str:
    """Signs in through the form (CSRF cookie + the same token in the form) and returns the
    session cookie's value."""
    status, headers, body = request(port, "GET", "/.warden/login?rd=%2Fprivate%2Fx", {})
    csrf = cookie(headers, CSRF_COOKIE)
    field_ = re.search(r'name="csrf" value="([^"]+)"', body)
    if status != 200 or not csrf or not field_ or field_.group(1) != csrf:
        die(f"sign-in page: {status}, csrf cookie {csrf!r}, field {field_ and field_.group(1)!r}")
    form = urllib.parse.urlencode({"csrf": csrf, "rd": "/private/x", "username": base.BASIC_USER,
                                   "password": base.BASIC_PASSWORD})
    status, headers, body = request(port, "POST", "/.warden/login", {
        "Cookie": f"{CSRF_COOKIE}={csrf}", "Content-Type": "application/x-www-form-urlencoded"}, form)
    session = cookie(headers, SESSION_COOKIE)
    if status != 303 or not session:
        die(f"sign-in POST answered {status} without a {SESSION_COOKIE} cookie: {headers}\n{body[:500]}")
    return session


def healthy(port: int) -> None:
    status, _, body = request(port, "GET", "/.warden/health", {})
    if status != 200:
        die(f"warden on :{port} is not healthy ({status}): {body[:300]}")


# --------------------------------------------------------------------------------------------
# The benchmark.


@dataclass
class KeyRun:
    kind: str  # "floor", "distinct", "cycled-big", "cycled-small"
    label: str
    keys_in_store: int
    data: dict
    cpu: dict
    warden_cpu_s: float
    pg_cpu_s: float
    redis_calls: int
    lookups: float
    idle_kib: int = 0
    rss_after_kib: int = 0
    peak_kib: int = 0

    @property
    def non200(self) -> int:
        d = self.data
        return sum(v for k, v in d["codes"].items() if k != "200") + d["errors"] + d["unfinished"]


@dataclass
class Replicas:
    one: list[base.Load] = field(default_factory=list)
    two: list[tuple[base.Load, base.Load]] = field(default_factory=list)


class ReplicaBench:
    def __init__(self, args):
        self.a = args
        self.b = base.Bench(args)
        self.res = Resources()
        self.sessions: dict[str, base.Result] = {}
        self.session_rounds: list[dict[str, tuple[float, float]]] = []  # (decisions/s, per CPU-s)
        self.session_backend = {"redis": 0, "lookups": 0, "updates": 0, "decisions": 0, "seconds": 0.0}
        self.replicas = Replicas()
        self.keys: list[KeyRun] = []
        self.pg_tls = ""
        self.started = time.monotonic()

    # ---- preparation -----------------------------------------------------------------------

    def prepare(self) -> None:
        b = self.b
        b.check_tools()
        for tool in ["psql", "redis-cli", "ss"]:
            if not shutil.which(tool):
                die(f"{tool} not found (Debian: apt-get install -y postgresql-client redis-tools iproute2)")
        if not self.a.no_build:
            log("building warden (release) and the bench helpers (baseline, mint, fixed-rate)…")
            base.run(["cargo", "build", "--release", "--quiet", "-p", "warden-cli"], cwd=ROOT)
            base.run(["cargo", "build", "--release", "--quiet", "--bin", "baseline", "--bin", "mint", "--bin", "fixed-rate"],
                     cwd=BENCH)
        for exe in [base.WARDEN, base.BIN / "baseline", base.BIN / "mint", base.BIN / "fixed-rate"]:
            if not exe.exists():
                die(f"{exe} not built")
        try:
            psql("SELECT 1")
            redis_cli("PING")
        except subprocess.CalledProcessError as e:
            die(f"PostgreSQL or Redis not reachable: {e.stderr or e}")
        # run.py's preparation: ES256 key, JWKS, tokens, the SQLite store with user `bench`.
        b.prepare(10)
        # A copy of the binary: the shared target dir may be rebuilt while this runs.
        (WORK / "bin").mkdir()
        shutil.copy2(base.WARDEN, WORK / "bin" / "warden")
        self.binary_mtime = time.strftime("%Y-%m-%d %H:%M", time.localtime(base.WARDEN.stat().st_mtime))
        base.WARDEN = WORK / "bin" / "warden"
        self.schema = self.res.schema("pg")
        self.prefix = self.res.prefix("state")
        self.write_config("sqlite.toml", "sqlite")
        pg = self.write_config("pg.toml", "pg", self.schema, self.prefix)
        self.write_config("pg-b.toml", "pg-b", self.schema, self.prefix)
        warden_cli(pg, "migrate")
        warden_cli(pg, "user", "add", base.BASIC_USER, "--role", "admin", "--password-stdin",
                   input=base.BASIC_PASSWORD.encode())
        self.cookies = {}
        for name, conf in [("sqlite", "sqlite.toml"), ("pg", "pg.toml")]:
            with base.Stack([self.warden("signin", conf, name)]):
                if name == "pg":
                    healthy(b.port(name))
                self.cookies[name] = sign_in(b.port(name))

    def write_config(self, file: str, port_name: str, schema=None, prefix=None) -> Path:
        path = WORK / file
        path.write_text(config(self.b, self.b.port(port_name), schema, prefix))
        return path

    def warden(self, name: str, conf: str, port_name: str, cpu: str | None = None) -> base.Proc:
        """A warden process; `cpu` re-pins it from run.py's server CPU (taskset runs taskset,
        which execs warden: the PID is warden's)."""
        p = self.b.warden_proc(name, conf, port_name)
        if cpu is not None:
            p.cmd = ["taskset", "-c", cpu, *p.cmd]
        return p

    def hyper(self) -> base.Proc:
        port = self.b.port("hyper")
        return base.Proc("hyper", [str(base.BIN / "baseline"), "--port", str(port)], ready=(port, "/"))

    # ---- 1. session cookie -----------------------------------------------------------------

    def part_sessions(self) -> None:
        b, P = self.b, self.b.port
        S = base.Scenario
        scenarios = [
            S("hyper", "bare hyper, 200 (context)", "baseline", "ceiling", lambda: [self.hyper()],
              lambda: P("hyper"), "/private/x"),
            S("session-sqlite", "session cookie, SQLite + in-process state", "warden", "session",
              lambda: [self.warden("warden-sqlite", "sqlite.toml", "sqlite")], lambda: P("sqlite"), "/private/x",
              {"Cookie": f"{SESSION_COOKIE}={self.cookies['sqlite']}"}),
            S("session-pg-redis", "session cookie, PostgreSQL + Redis", "warden", "session",
              lambda: [self.warden("warden-pg", "pg.toml", "pg")], lambda: P("pg"), "/private/x",
              {"Cookie": f"{SESSION_COOKIE}={self.cookies['pg']}"}),
        ]
        # Rounds of one run each, alternating the setups, so a busy minute on the shared VM
        # lands on all of them rather than on one.
        self.session_rounds = []
        for rnd in range(self.a.runs):
            got = {}
            for s in scenarios:
                log(f"1. {s.name} (round {rnd + 1}/{self.a.runs})")
                shared = s.name == "session-pg-redis"
                if shared:
                    before, calls = table_stats(self.schema), redis_calls()
                r = self.one_run(s)
                if shared:
                    time.sleep(0.5)  # warden has exited: its backends flushed their statistics
                    after, x = table_stats(self.schema), self.session_backend
                    x["redis"] += redis_calls() - calls
                    x["lookups"] += stats_delta(before, after, "sessions")[0]
                    x["updates"] += stats_delta(before, after, "sessions")[1]
                    x["decisions"] += sum(run.requests for run in r.runs)
                    x["seconds"] += sum(run.requests / run.rps for run in r.runs if run.rps) + self.a.warmup
                got[s.name] = (r.rps, r.per_cpu_s)
                prev = self.sessions.get(s.name)
                if prev:
                    prev.runs += r.runs
                    prev.idle_kib += r.idle_kib
                    prev.peak_kib += r.peak_kib
                else:
                    self.sessions[s.name] = r
            self.session_rounds.append(got)
            log("   " + ", ".join(f"{k} {v[0]:,.0f}/s ({v[1]:,.0f} per CPU-s)" for k, v in got.items()))

    def one_run(self, s: base.Scenario) -> base.Result:
        runs = self.b.args.runs
        self.b.args.runs = 1
        try:
            r = self.b.one(s)
        finally:
            self.b.args.runs = runs
        if not r.runs:
            die(f"{s.name}: not measured ({r.skipped})")
        for x in r.runs:
            if x.non2xx or x.errors:
                log(f"   {s.name}: {x.non2xx} non-2xx answers, {x.errors} socket errors")
        return r

    # ---- 2. two replicas vs one ------------------------------------------------------------

    def part_replicas(self) -> None:
        b, a = self.b, self.a
        token = {"Authorization": f"Bearer {b.tokens['admin']}"}
        one = base.Scenario("replica-one", "one warden, cached JWT", "warden", "jwt",
                            lambda: [self.warden("replica-one", "pg.toml", "pg")], lambda: b.port("pg"),
                            "/private/x", token)
        for rnd in range(a.runs):
            log(f"2. one replica on CPU 0, wrk -c{base.CONNECTIONS} on CPU {base.LOAD_CPU} (round {rnd + 1})")
            self.replicas.one += self.one_run(one).runs
            log(f"   {self.replicas.one[-1].rps:,.0f}/s")
            log(f"2. two replicas on CPU 0 and CPU 1, 2 x wrk -c{base.CONNECTIONS // 2} on CPUs 0-1 (round {rnd + 1})")
            self.replicas.two.append(self.two_replicas(token))
            x, y = self.replicas.two[-1]
            log(f"   {x.rps:,.0f} + {y.rps:,.0f} = {x.rps + y.rps:,.0f}/s")

    def two_replicas(self, headers: dict) -> tuple[base.Load, base.Load]:
        b, a = self.b, self.a
        procs = [self.warden("replica-a", "pg.toml", "pg", base.SERVER_CPU),
                 self.warden("replica-b", "pg-b.toml", "pg-b", base.LOAD_CPU)]
        ports = [b.port("pg"), b.port("pg-b")]
        with base.Stack([procs[0]]) as sa, base.Stack([procs[1]]) as sb:
            stacks = [sa, sb]
            for port in ports:
                status, _ = base.http_get(port, "/private/x", headers)
                if status != 200:
                    die(f"replica on :{port} answered {status} to the JWT")
            # run.py's wrk, twice at once: half the connections each, both generators allowed
            # on both CPUs (there is no third core to give them).
            saved = base.CONNECTIONS, base.LOAD_CPU
            base.CONNECTIONS, base.LOAD_CPU = base.CONNECTIONS // 2, f"{base.SERVER_CPU},{saved[1]}"
            try:
                with concurrent.futures.ThreadPoolExecutor(2) as pool:
                    def both(seconds):
                        futs = [pool.submit(base.wrk, st, f"http://127.0.0.1:{p}/private/x", seconds, headers, None)
                                for st, p in zip(stacks, ports)]
                        return tuple(f.result() for f in futs)
                    both(a.warmup)
                    loads = both(a.duration)
            finally:
                base.CONNECTIONS, base.LOAD_CPU = saved
            if not (sa.alive() and sb.alive()):
                die("a replica exited during the load")
        for x in loads:
            if x.non2xx or x.errors:
                log(f"   replica: {x.non2xx} non-2xx answers, {x.errors} socket errors")
        return loads

    # ---- 3. one million API keys -----------------------------------------------------------

    def bulk_keys(self, schema: str, count: int, keep: int, plain: Path | None) -> float:
        """COPYs `count` keys into `schema` (rows as `warden key create` writes them); keeps the
        first `keep` plaintexts in `plain`. Returns the seconds it took."""
        t = time.monotonic()
        env = dict(os.environ, PGOPTIONS=f"-c search_path={schema}")
        cmd = ["psql", "-h", PG_HOST, "-p", str(PG_PORT), "-U", PG_USER, "-d", PG_DB, "-X", "-q",
               "-v", "ON_ERROR_STOP=1", "-c",
               "COPY api_keys (id, name, key_hash, roles, revoked, created_at) FROM STDIN"]
        copy = subprocess.Popen(cmd, stdin=subprocess.PIPE, env=env)
        keepf = open(plain, "w") if plain else None
        now, ids, chunk = int(time.time()), set(), []
        for i in range(count):
            key = "wdn_" + base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
            kid = secrets.token_hex(6)
            while kid in ids:
                kid = secrets.token_hex(6)
            ids.add(kid)
            chunk.append(f"{kid}\tbench-{i}\t{hashlib.sha256(key.encode()).hexdigest()}\tadmin\tf\t{now}\n")
            if keepf and i < keep:
                keepf.write(key + "\n")
            if len(chunk) == 10_000:
                copy.stdin.write("".join(chunk).encode())
                chunk = []
        copy.stdin.write("".join(chunk).encode())
        copy.stdin.close()
        if copy.wait() != 0:
            die(f"COPY into {schema} failed")
        if keepf:
            keepf.close()
        psql("ANALYZE api_keys", schema)
        got = int(psql("SELECT count(*) FROM api_keys", schema))
        if got != count:
            die(f"{schema}: {got} keys after COPY, expected {count}")
        return time.monotonic() - t

    def part_keys(self) -> None:
        a, b = self.a, self.b
        big, small = self.res.schema("keys_big"), self.res.schema("keys_small")
        prefix = self.res.prefix("keys")
        plain = WORK / "keys-plain.txt"
        for schema, name in [(big, "keys-big"), (small, "keys-small")]:
            warden_cli(self.write_config(f"{name}.toml", name, schema, prefix), "migrate")
        keep = min(a.keys, a.keep)
        log(f"3. COPY {a.keys:,} keys into {big} (keeping {keep:,} plaintexts)…")
        self.copy_seconds = self.bulk_keys(big, a.keys, keep, plain)
        self.big_size = psql("SELECT pg_size_pretty(pg_total_relation_size('api_keys'))", big)
        log(f"   {self.copy_seconds:.0f} s; table + indexes {self.big_size}")
        # The small store holds the same first 1 000 keys (named bench-0 … bench-999), so the
        # cycled runs send identical requests to both stores.
        psql(f"INSERT INTO {small}.api_keys SELECT * FROM {big}.api_keys "
             f"WHERE substring(name from 7)::int < {SMALL_KEYS}")
        psql("ANALYZE api_keys", small)
        if int(psql("SELECT count(*) FROM api_keys", small)) != SMALL_KEYS:
            die(f"{small}: not {SMALL_KEYS} keys")
        total = int(a.rate * a.key_seconds)
        warm = max(1, min(2, a.key_seconds))
        if total + int(a.rate * warm) > keep:
            die(f"{total:,} requests and the warm-up need more than the {keep:,} kept keys (--keep)")
        # (port name, label, keys in store, measured keys: offset and count, warm-up keys: offset
        # and count). The distinct-key runs warm up on keys they never send afterwards; the
        # cycled runs on their own 1 000 (any key outside the store would count as a failed
        # attempt and soon get the client IP throttled).
        runs = [
            ("floor", "hyper", "bare hyper (the client's floor)", None, 0, total, keep - int(a.rate * warm), int(a.rate * warm)),
            ("distinct", "keys-big", f"{a.keys:,} keys, every request a different key", a.keys, 0, total,
             keep - int(a.rate * warm), int(a.rate * warm)),
            ("cycled-big", "keys-big", f"{a.keys:,} keys, the same {SMALL_KEYS:,} keys cycled", a.keys, 0, SMALL_KEYS, 0, SMALL_KEYS),
            ("cycled-small", "keys-small", f"{SMALL_KEYS:,} keys, the same {SMALL_KEYS:,} keys cycled", SMALL_KEYS, 0,
             SMALL_KEYS, 0, SMALL_KEYS),
            # The floor again: other work on the VM comes and goes within minutes.
            ("floor", "hyper", "bare hyper again, after the warden runs", None, 0, total, keep - int(a.rate * warm),
             int(a.rate * warm)),
        ]
        for (kind, name, label, in_store, offset, count, warm_offset, warm_count) in runs:
            log(f"3. {label}: {a.rate:.0f} req/s for {a.key_seconds} s")
            schema = {"keys-big": big, "keys-small": small}.get(name)
            self.keys.append(self.key_run(kind, name, label, in_store, plain, (offset, count),
                                          (warm_offset, warm_count), warm, schema))
            d = self.keys[-1].data
            log(f"   p50 {d['p50_ms']:.2f} ms, p99 {d['p99_ms']:.2f} ms, {d['codes']}, errors {d['errors']}, "
                f"RSS after {mib(self.keys[-1].rss_after_kib)}")

    def key_run(self, kind, name, label, in_store, plain, measure, warm_keys, warm, schema) -> KeyRun:
        offset, count = measure
        a, b = self.a, self.b
        proc = self.hyper() if name == "hyper" else self.warden(name, f"{name}.toml", name)
        port = b.port(name)

        def client(off, cnt, seconds):
            return [str(base.BIN / "fixed-rate"), "--port", str(port),
                    "--keys", str(plain), "--offset", str(off), "--count", str(cnt), "--rate", str(a.rate),
                    "--seconds", str(seconds), "--conns", str(a.conns)]

        with base.Stack([proc]) as stack:
            time.sleep(0.3)
            idle = stack.rss_kib("VmRSS")
            stack.reset_peak()
            if name != "hyper":
                healthy(port)
                with open(plain) as f:
                    first = [f.readline().strip() for _ in range(offset + 1)][-1]
                status, _ = base.http_get(port, "/private/x", {KEY_HEADER: first})
                if status != 200:
                    die(f"{label}: a valid key answered {status}")
            stats_before = table_stats(schema) if schema else {}
            warm_text, _ = base.measured(client(*warm_keys, warm), stack)
            warm_done = json.loads(warm_text[warm_text.index("{"):])["done"]
            time.sleep(1.0)  # past the 500 ms success cache: warm-up keys are not remembered
            pg_pids = pg_backends(stack.measured_pids())
            pg_before = sum(base.proc_cpu_ns(p) for p in pg_pids)
            cpu_before, calls_before = stack.cpu_ns(), redis_calls()
            text, cpu = base.measured(client(offset, count, a.key_seconds), stack)
            warden_s = (stack.cpu_ns() - cpu_before) / 1e9
            calls = redis_calls() - calls_before
            pg_pids_after = pg_backends(stack.measured_pids())
            if pg_pids_after:
                self.pg_tls = psql(f"SELECT count(*) FILTER (WHERE ssl) || ' of ' || count(*) FROM pg_stat_ssl "
                                   f"WHERE pid IN ({','.join(map(str, pg_pids_after))})")
            pg_s = (sum(base.proc_cpu_ns(p) for p in pg_pids_after) - pg_before) / 1e9
            if set(pg_pids_after) - set(pg_pids):
                log(f"   new PostgreSQL connections during the run: {sorted(set(pg_pids_after) - set(pg_pids))}")
            time.sleep(0.2)
            rss, peak = stack.rss_kib("VmRSS"), stack.rss_kib("VmHWM")
            if not stack.alive():
                die(f"{label}: the server exited:\n{proc.tail()}")
        data = json.loads(text[text.index("{"):])
        lookups = 0.0
        if schema:
            # Read after warden exited, when its backends have flushed their statistics; the
            # warm-up's requests are lookups too, so the count is per request of both.
            time.sleep(0.5)
            scans = stats_delta(stats_before, table_stats(schema), "api_keys")[0]
            lookups = scans / max(warm_done + data["done"], 1) * data["done"]
        return KeyRun(kind, label, in_store or 0, data, cpu, warden_s, pg_s, calls, lookups, idle, rss, peak)

    # ---- reporting -------------------------------------------------------------------------

    def session_table(self) -> str:
        rows = ["| setup | decisions/s (× hyper) | per server CPU-s (× hyper) | p50 ms | p99 ms | idle RSS "
                "| peak RSS under load | server CPU | other CPU | non-2xx / socket errors |",
                "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        h = self.sessions["hyper"]
        for name, r in self.sessions.items():
            med = lambda attr: statistics.median(getattr(x, attr) for x in r.runs)  # noqa: E731
            spread = (f" ({min(x.rps for x in r.runs):,.0f}–{max(x.rps for x in r.runs):,.0f})"
                      if len(r.runs) > 1 else "")
            rows.append(f"| `{name}` {r.scenario.label} | {r.rps:,.0f}{spread} ({base.ratio(r.rps, h.rps)}) "
                        f"| {r.per_cpu_s:,.0f} ({base.ratio(r.per_cpu_s, h.per_cpu_s)}) | {r.p50:.2f} | {r.p99:.2f} "
                        f"| {mib(r.idle)} | {mib(r.peak)} | {med('server_cpu'):.0f} % | {med('other_cpu'):.0f} % "
                        f"| {sum(x.non2xx for x in r.runs)} / {sum(x.errors for x in r.runs)} |")
        return "\n".join(rows)

    def session_backend_line(self) -> str:
        x = self.session_backend
        per_s = x["lookups"] / max(x["seconds"], 1e-9)
        return (f"What the PostgreSQL + Redis runs asked of them (warm-ups included): {x['lookups']:,} index scans "
                f"and {x['updates']:,} row updates on `sessions` (`pg_stat_user_tables` of the run's schema, read "
                f"after warden exited) and {x['redis']:,} Redis script calls (machine-wide: other work on this "
                f"machine uses the same Redis; the session path has no attempt check), in about "
                f"{x['seconds']:.0f} s of load: {per_s:.0f} session lookups per second, i.e. about "
                f"{per_s / 2:.0f} per expiry of the 500 ms success cache, with {base.CONNECTIONS} connections "
                f"sending the cookie.")

    def session_ratio(self) -> dict:
        """PG + Redis / SQLite: of the medians, and round by round (each round measures both a
        few seconds apart, so its ratio is the one least moved by other work on the VM)."""
        s, p = self.sessions["session-sqlite"], self.sessions["session-pg-redis"]
        rps = [r["session-pg-redis"][0] / r["session-sqlite"][0] for r in self.session_rounds]
        cpu = [r["session-pg-redis"][1] / r["session-sqlite"][1] for r in self.session_rounds]
        return {"rps": p.rps / s.rps, "cpu": p.per_cpu_s / s.per_cpu_s, "rounds_rps": rps, "rounds_cpu": cpu,
                "paired_rps": statistics.median(rps), "paired_cpu": statistics.median(cpu)}

    def session_rounds_line(self) -> str:
        q = self.session_ratio()
        return (f"PostgreSQL + Redis / SQLite round by round, decisions/s: "
                f"{', '.join(f'{x:.2f}×' for x in q['rounds_rps'])} (median {q['paired_rps']:.2f}×); per server "
                f"CPU-s: {', '.join(f'{x:.2f}×' for x in q['rounds_cpu'])} (median {q['paired_cpu']:.2f}×). Ratio "
                f"of the medians above: {q['rps']:.2f}× and {q['cpu']:.2f}×.")

    def replica_figures(self) -> dict:
        one, two = self.replicas.one, self.replicas.two
        per = lambda rps, cpu: rps / max(cpu, 1e-9) * 100  # noqa: E731
        two_rps = [x.rps + y.rps for x, y in two]
        two_cpu = [x.server_cpu + y.server_cpu for x, y in two]
        # Each thread's "other CPU" also counts the other replica and its wrk: take them out.
        two_other = [max(0.0, (x.other_cpu - y.server_cpu - y.load_cpu + y.other_cpu - x.server_cpu - x.load_cpu) / 2)
                     for x, y in two]
        return {
            "one_rps": statistics.median(x.rps for x in one),
            "one_cpu": statistics.median(x.server_cpu for x in one),
            "one_per": statistics.median(per(x.rps, x.server_cpu) for x in one),
            "one_load": statistics.median(x.load_cpu for x in one),
            "one_other": statistics.median(x.other_cpu for x in one),
            "one_p99": statistics.median(x.p99_ms for x in one),
            "one_spread": (min(x.rps for x in one), max(x.rps for x in one)),
            "two_rps": statistics.median(two_rps),
            "two_cpu": statistics.median(two_cpu),
            "two_per": statistics.median(per(r, c) for r, c in zip(two_rps, two_cpu)),
            "two_load": statistics.median(x.load_cpu + y.load_cpu for x, y in two),
            "two_other": statistics.median(two_other),
            "two_p99": statistics.median(max(x.p99_ms, y.p99_ms) for x, y in two),
            "two_spread": (min(two_rps), max(two_rps)),
            "a_rps": statistics.median(x.rps for x, _ in two), "b_rps": statistics.median(y.rps for _, y in two),
            "a_per": statistics.median(per(x.rps, x.server_cpu) for x, _ in two),
            "b_per": statistics.median(per(y.rps, y.server_cpu) for _, y in two),
            "a_cpu": statistics.median(x.server_cpu for x, _ in two),
            "b_cpu": statistics.median(y.server_cpu for _, y in two),
            "errors": sum(x.non2xx + x.errors for x in one) + sum(x.non2xx + x.errors + y.non2xx + y.errors
                                                                   for x, y in two),
        }

    def replica_table(self) -> str:
        f = self.replica_figures()
        c = base.CONNECTIONS
        spread = lambda s: f" ({s[0]:,.0f}–{s[1]:,.0f})" if len(self.replicas.one) > 1 else ""  # noqa: E731
        return "\n".join([
            "| setup | load generator | decisions/s | server CPU (% of one core) | decisions per server CPU-s "
            "| load generator CPU | other CPU | p99 ms (wrk) |",
            "|---|---|---:|---:|---:|---:|---:|---:|",
            f"| one replica, CPU 0 | `wrk -t1 -c{c}` pinned to CPU 1 | {f['one_rps']:,.0f}{spread(f['one_spread'])} "
            f"| {f['one_cpu']:.0f} % | {f['one_per']:,.0f} | {f['one_load']:.0f} % | {f['one_other']:.0f} % "
            f"| {f['one_p99']:.2f} |",
            f"| two replicas, CPU 0 + CPU 1 | 2 × `wrk -t1 -c{c // 2}` (one per replica), both free on CPUs 0–1 "
            f"| {f['two_rps']:,.0f}{spread(f['two_spread'])} | {f['two_cpu']:.0f} % | {f['two_per']:,.0f} "
            f"| {f['two_load']:.0f} % | {f['two_other']:.0f} % | {f['two_p99']:.2f} (worse of the two) |",
            f"| — replica A (CPU 0) | | {f['a_rps']:,.0f} | {f['a_cpu']:.0f} % | {f['a_per']:,.0f} | | | |",
            f"| — replica B (CPU 1) | | {f['b_rps']:,.0f} | {f['b_cpu']:.0f} % | {f['b_per']:,.0f} | | | |",
        ])

    def key_table(self) -> str:
        rows = ["| run | keys in store | distinct keys sent | req/s done (asked) | p50 ms | p99 ms | p99.9 ms | max ms "
                "| p99 ms, wire only | client timer lateness p99 / max ms | answers | not 200 | warden CPU per req "
                "| PostgreSQL CPU per req | `api_keys` lookups per req | Redis script calls per req | idle RSS | RSS after "
                "| peak RSS |",
                "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for k in self.keys:
            d = k.data
            n = max(d["done"], 1)
            hyper = k.kind == "floor"
            codes = ", ".join(f"{c}: {v:,}" for c, v in sorted(d["codes"].items()))
            if d["errors"] or d["unfinished"]:
                codes += f"; {d['errors']} errors, {d['unfinished']} unfinished"
            in_store = "–" if hyper else f"{k.keys_in_store:,}"
            distinct = "–" if hyper else f"{d['distinct_keys']:,}"
            pg = "–" if hyper else f"{k.pg_cpu_s / n * 1e6:.0f} µs"
            calls = "–" if hyper else f"{k.redis_calls / n:.2f}"
            lookups = "–" if hyper else f"{k.lookups / n:.2f}"
            rows.append(
                f"| {k.label} | {in_store} | {distinct} "
                f"| {d['rps']:,.0f} ({self.a.rate:,.0f}) | {d['p50_ms']:.2f} | {d['p99_ms']:.2f} | {d['p999_ms']:.2f} "
                f"| {d['max_ms']:.1f} | {d['p99_write_ms']:.2f} | {d['late_p99_ms']:.2f} / {d['late_max_ms']:.1f} "
                f"| {codes} | {'–' if hyper else k.non200} | {k.warden_cpu_s / n * 1e6:.0f} µs "
                f"| {pg} | {lookups} | {calls} "
                f"| {mib(k.idle_kib)} | {mib(k.rss_after_kib)} | {mib(k.peak_kib)} |")
        return "\n".join(rows)

    def targets(self) -> list[tuple[str, str, str, bool | None]]:
        out = []
        if self.sessions:
            q = self.session_ratio()
            out.append(("session cookie, PG + Redis vs SQLite (decisions/s, median of the rounds' ratios)",
                        f"{q['paired_rps']:.2f}× (per CPU-s {q['paired_cpu']:.2f}×; ratio of the medians "
                        f"{q['rps']:.2f}×)", "≥ 0.8×", q["paired_rps"] >= 0.8))
        if self.replicas.one:
            f = self.replica_figures()
            raw, eff = f["two_rps"] / f["one_rps"], f["two_per"] / f["one_per"]
            out.append(("two replicas vs one, cached JWT (decisions/s; on 2 cores shared with the load "
                        "generator this says how the cores were shared, see the notes)",
                        f"{raw:.2f}× ({f['two_rps']:,.0f} / {f['one_rps']:,.0f})", "≥ 1.6×", raw >= 1.6))
            out.append(("the same per server CPU-second (two replicas / one)",
                        f"{eff:.2f}× ({f['two_per']:,.0f} / {f['one_per']:,.0f})",
                        "≥ 0.8× (= 1.6× / 2: no shared cost)", eff >= 0.8))
        big, cyc, small = (self.key("distinct"), self.key("cycled-big"), self.key("cycled-small"))
        if big:
            d = big.data
            ok = d["p99_ms"] <= 2.0 and big.non200 == 0 and d["rps"] >= 0.95 * self.a.rate
            floors = self.floors()
            extra = f"; the client's floor, bare hyper before and after: {floors}" if floors else ""
            out.append((f"p99 of an uncached key check, {self.a.keys:,} keys in PostgreSQL, {self.a.rate:,.0f} req/s",
                        f"{d['p99_ms']:.2f} ms ({d['rps']:,.0f} req/s done, {big.non200} not 200{extra})", "≤ 2 ms", ok))
        if big and small and cyc:
            grow = cyc.rss_after_kib - small.rss_after_kib
            ok = abs(grow) <= max(2048, 0.1 * small.rss_after_kib)
            out.append((f"warden RSS after the run, {self.a.keys:,} vs {SMALL_KEYS:,} keys in the store "
                        f"(the same {SMALL_KEYS:,} keys sent to both)",
                        f"{mib(cyc.rss_after_kib)} vs {mib(small.rss_after_kib)} ({grow / 1024:+.1f} MiB); "
                        f"{mib(big.rss_after_kib)} after {big.data['distinct_keys']:,} distinct keys",
                        "does not grow with the keys", ok))
        return out

    def key(self, kind: str) -> KeyRun | None:
        return next((k for k in self.keys if k.kind == kind), None)

    def floors(self) -> str:
        return " and ".join(f"{k.data['p99_ms']:.2f} ms" for k in self.keys if k.kind == "floor")

    def targets_table(self) -> str:
        mark = lambda m: "met" if m else ("**missed**" if m is False else "")  # noqa: E731
        rows = ["| target | measured | wanted | verdict |", "|---|---|---|---|"]
        rows += [f"| {w} | {got} | {want} | {mark(m)} |" for w, got, want, m in self.targets()]
        return "\n".join(rows)

    def console(self) -> str:
        lines = []
        if self.sessions:
            lines += ["1. Session cookie on /private/x (wrk -c64, median of runs):", self.session_table(),
                      self.session_rounds_line(),
                      self.session_backend_line(), ""]
        if self.replicas.one:
            lines += ["2. Two replicas vs one, cached JWT:", self.replica_table(), ""]
        if self.keys:
            lines += [f"3. API keys at {self.a.rate:,.0f} req/s for {self.a.key_seconds} s "
                      f"(COPY of {self.a.keys:,} keys: {self.copy_seconds:.0f} s, table + indexes {self.big_size}):",
                      self.key_table(), ""]
        lines += [self.targets_table(), "", *self.findings(), "",
                  f"total time: {(time.monotonic() - self.started) / 60:.1f} min"]
        return "\n".join(lines)

    def markdown(self, command: str) -> str:
        m = base.machine()
        a = self.a
        f = self.replica_figures()
        pg = psql("SHOW server_version")
        redis = re.search(r"redis_version:(\S+)", redis_cli("INFO", "server"))
        notes = "\n".join(f"- {n}" for n in self.findings())
        return f"""## Replicas

Written by `bench/replicas.py` (see [bench/README.md](bench/README.md#replicas)); not by
`bench/run.py`, whose tables above are from its own run.

```sh
{command}
```

| | |
|---|---|
| date | {time.strftime('%Y-%m-%d %H:%M %Z')}; whole run {(time.monotonic() - self.started) / 60:.1f} min |
| warden | commit {m['commit']}; binary built {self.binary_mtime}, copied for the run |
| machine | {m['cpu']}, {m['cpus']} CPUs, kernel {m['kernel']}, {m['rustc']} |
| PostgreSQL, Redis | {pg}; Redis {redis.group(1) if redis else '?'}: on the same VM, loopback, not pinned (their CPU time is in "other CPU") |
| load | {m['wrk']}; `wrk -t1 -c{base.CONNECTIONS} -d{a.duration}s` after a {a.warmup} s warm-up, {a.runs} run(s) per setup, median; the setups of parts 1 and 2 alternate round by round |

The machine is shared: other CPU (time used by neither the servers nor the load generator) is
in the tables; the setups of parts 1 and 2 alternate round by round, so a busy minute falls on all of them.

### 1. Session cookie: PostgreSQL + Redis vs the embedded store

The same configuration (`[authn.basic]`, `[login]`, rule `/private/**` `require =
"authenticated"`) and a session cookie from a real sign-in through `/.warden/login` (CSRF
cookie + form POST), on `GET /private/x`; once on SQLite in `data_dir` with in-process state,
once on a fresh PostgreSQL schema with a fresh Redis key prefix. warden on CPU 0, wrk on CPU 1.

{self.session_table()}

{self.session_rounds_line()}

{self.session_backend_line()}

### 2. Two replicas vs one (cached JWT)

run.py's `warden-jwt` request (one valid ES256 token, verified once then cached) with the
PostgreSQL + Redis configuration of part 1. One replica: warden pinned to CPU 0, `wrk -c{base.CONNECTIONS}`
pinned to CPU 1, as in run.py. Two replicas: the same file with another port, pinned to CPU 0
and to CPU 1; the {base.CONNECTIONS} connections split {base.CONNECTIONS // 2} + {base.CONNECTIONS // 2} between
two `wrk -t1` processes, one per replica, started together, **both allowed on both CPUs**
(`taskset -c 0,1`): with two cores and two replicas the load generator can only share them.
"decisions per server CPU-s" divides by the replicas' own CPU time (schedstat of their threads).

{self.replica_table()}

### 3. 1 000 000 API keys in PostgreSQL

{a.keys:,} keys (`wdn_` + base64url of 32 random bytes; rows `id, name, key_hash, roles,
revoked, created_at` as `warden key create` writes them) COPY'd into a fresh schema in
{self.copy_seconds:.0f} s (table + indexes: {self.big_size}), a second schema holding the first
{SMALL_KEYS:,} of them; configuration as in part 1 (PostgreSQL + Redis). `X-API-Key` on
`GET /private/x` at a fixed {a.rate:,.0f} req/s for {a.key_seconds} s, a fresh warden per run,
after a {min(2, a.key_seconds)} s warm-up on other keys and a 1 s pause (longer than the 500 ms
success cache).

The load generator is bench's own client (`bench/src/bin/fixed-rate.rs`, plain threads,
pinned to CPU 1): wrk cannot hold a rate, oha cannot vary a header per request, and wrk2 is not
in Debian. It is open loop: request *i* is due at start + *i*/rate and goes out on the first
idle one of {a.conns} keep-alive connections; when all are busy it waits, and that wait counts.
Latency runs from the due time to the last byte of the answer (coordinated omission
corrected; the scheduler sleeps with `nanosleep`, and its own lateness is shown apart); "wire
only" is from the write. The bare hyper row is the same client at the same rate: the floor this
VM and loopback put under any server. "PostgreSQL CPU per req"
is the CPU time of the backends serving warden's connections (found with `ss -tnp`); "`api_keys`
lookups per req" the index scans of the run's schema (`pg_stat_user_tables`, read after warden
exited, warm-up included); "Redis script
calls per req" the machine-wide delta of EVALSHA calls in `INFO commandstats`.

{self.key_table()}

### Targets

{self.targets_table()}

### Notes

{notes}
"""

    def findings(self) -> list[str]:
        out = []
        if self.replicas.one:
            f = self.replica_figures()
            eff = f["two_per"] / f["one_per"]
            if eff >= 0.8:
                same = ("a decision costs no more CPU with two replicas than with one, so the replicas share no lock "
                        "and no round trip on this path (a cached JWT needs neither PostgreSQL nor Redis). A figure "
                        "above 1× is not warden going faster: the placement differs (each wrk free on both CPUs, so "
                        "often on its replica's, where loopback needs no cross-CPU wake-up; 32 connections per "
                        "replica instead of 64). With a core per replica and the load generator elsewhere each replica would do "
                        "what one does here, about 2× one replica (inferred, not measured)")
            else:
                same = "a decision costs more CPU with two replicas than with one: something is shared or contended"
            out.append(f"On two cores shared with the load generator (and on this VM with other work), the raw "
                       f"ratio ({f['two_rps'] / f['one_rps']:.2f}×) says how the cores were shared, not how warden "
                       f"scales: one replica got {f['one_cpu']:.0f} % of CPU 0 while wrk had CPU 1; two replicas got "
                       f"{f['two_cpu']:.0f} % of one core together, and the two wrk {f['two_load']:.0f} %. Per server "
                       f"CPU-second two replicas did {eff:.2f}× the "
                       f"work of one: {same}.")
        x = self.session_backend
        per_expiry = x["lookups"] / max(x["seconds"], 1e-9) / 2
        if self.sessions and per_expiry > 4:
            out.append(f"Session checks have no single flight: each time the 500 ms success expires, the requests "
                       f"in flight with that cookie all ask the store (about {per_expiry:.0f} lookups per expiry with "
                       f"{base.CONNECTIONS} connections, part 1). Harmless here; the burst grows with the concurrency "
                       f"per session and replica.")
        big = self.key("distinct")
        floors = [k.data for k in self.keys if k.kind == "floor"]
        if big and floors and max(f["p99_ms"] for f in floors) > 2.0:
            medians = " and ".join(f"{f['p50_ms']:.2f}" for f in floors)
            out.append(f"The p99 target cannot be judged on this machine in this run: the same client against bare "
                       f"hyper at the same rate, before and after the warden runs, had a p99 of {self.floors()} "
                       f"(p50 {medians} ms): "
                       f"the tail is scheduling delay from other work on both CPUs, and warden's p99 "
                       f"({big.data['p99_ms']:.2f} ms) measures this machine as much as warden. An uncached key check adds three "
                       f"round trips (the Redis script, the PostgreSQL ping and the query), each waking a process "
                       f"exposed to the same delays. The medians tell the cost of the check itself: "
                       f"{big.data['p50_ms']:.2f} ms against bare hyper's "
                       f"{medians} ms.")
        if big and big.redis_calls / max(big.data["done"], 1) >= 0.9:
            out.append(f"Every uncached API-key request made a Redis script call ({big.redis_calls / max(big.data['done'], 1):.2f} "
                       "per request in part 3, machine-wide count): before a key is looked up, warden asks the "
                       "failed-attempt state whether the client IP is blocked (`retry_after` in `throttled`, "
                       "crates/warden-server/src/authn.rs), so a blocked client costs no store lookup. A key "
                       "remembered from the last 500 ms is answered before that question and costs no round trip.")
        if big:
            out.append("From the code, not measured apart: the PostgreSQL pool is built with "
                       "`test_before_acquire(true)` (crates/warden-store/src/postgres/mod.rs), so an uncached check "
                       "is a ping and then the query, two round trips to PostgreSQL.")
        if self.pg_tls and not self.pg_tls.startswith("0 "):
            out.append(f"warden's PostgreSQL connections were TLS ({self.pg_tls} backends in `pg_stat_ssl`): the URL "
                       "names no `sslmode`, sqlx's default is `prefer`, and this server has `ssl = on`, so every round "
                       "trip, on loopback too, is encrypted on both sides.")
        out.append("A full `bench/run.py` rewrites BENCHMARKS.md whole: run `bench/replicas.py --write` after it to put "
                   "this section back.")
        return out


def write_section(text: str) -> None:
    path = ROOT / "BENCHMARKS.md"
    old = path.read_text() if path.exists() else "# Benchmarks\n"
    m = re.search(r"^## Replicas\n", old, re.M)
    if m:
        nxt = re.search(r"^## ", old[m.end():], re.M)
        old = old[:m.start()].rstrip("\n") + ("\n\n" + old[m.end() + nxt.start():] if nxt else "")
    path.write_text(old.rstrip("\n") + "\n\n" + text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=int, default=5, help="seconds per wrk run (default 5)")
    ap.add_argument("--runs", type=int, default=5, help="rounds in parts 1 and 2, median (default 5)")
    ap.add_argument("--warmup", type=int, default=1, help="wrk warm-up seconds (default 1)")
    ap.add_argument("--keys", type=int, default=1_000_000, help="API keys COPY'd into PostgreSQL (default 1000000)")
    ap.add_argument("--keep", type=int, default=60_000, help="plaintext keys kept for the load (default 60000)")
    ap.add_argument("--rate", type=float, default=1000, help="API-key requests per second (default 1000)")
    ap.add_argument("--key-seconds", type=int, default=30, help="seconds of the API-key runs (default 30)")
    ap.add_argument("--conns", type=int, default=32, help="keep-alive connections of the API-key client (default 32)")
    ap.add_argument("--pg-sslmode", help="sslmode in warden's PostgreSQL URLs (default: none, libpq's prefer)")
    ap.add_argument("--quick", action="store_true", help="1 s x 1 run, 10 000 keys: a smoke test")
    ap.add_argument("--only", default="sessions,replicas,keys", help="parts to run (default all three)")
    ap.add_argument("--no-build", action="store_true", help="use the binaries already built")
    ap.add_argument("--write", action="store_true", help="write the Replicas section of BENCHMARKS.md")
    a = ap.parse_args()
    if a.quick:
        a.duration, a.runs, a.warmup, a.keys, a.key_seconds = 1, 1, 1, 10_000, 1
    global PG_SSLMODE
    PG_SSLMODE = a.pg_sslmode
    parts = set(a.only.split(","))
    command = "python3 bench/replicas.py" + "".join(f" {x}" for x in sys.argv[1:])
    rb = ReplicaBench(a)
    try:
        rb.prepare()
        if "sessions" in parts:
            rb.part_sessions()
        if "replicas" in parts:
            rb.part_replicas()
        if "keys" in parts:
            rb.part_keys()
    except KeyboardInterrupt:
        log("interrupted")
        rb.res.drop()
        sys.exit(1)
    except BaseException:
        rb.res.drop()
        raise
    print(rb.console())
    if parts == {"sessions", "replicas", "keys"}:
        md = rb.markdown(command)
        if a.write and not a.quick:
            write_section(md)
            log("wrote the Replicas section of BENCHMARKS.md")
        else:
            (WORK / "BENCHMARKS.replicas.preview.md").write_text(md)
            log(f"report in {WORK / 'BENCHMARKS.replicas.preview.md'} (BENCHMARKS.md untouched without --write)")
    rb.res.drop()


if __name__ == "__main__":
    main()
