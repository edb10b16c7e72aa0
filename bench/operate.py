#!/usr/bin/env python3
"""The cost of warden's metrics and audit trail on run.py's cached-JWT scenario, in one run.

    python3 bench/operate.py                          # 5 s x 3 rounds; prints a Markdown section
    python3 bench/operate.py --duration 3 --rounds 1  # a smoke test

Four configurations, each measured once per round, the rounds round-robin (each round starts one
configuration later), so that drift on a shared machine hits all of them alike:

1. `hyper`: bare hyper, 200 (run.py's baseline, the ceiling);
2. `off`: warden, `GET /private/x` with a valid ES256 JWT, the same token every request (run.py's
   `warden-jwt`): no `[admin]`, no `[audit]` (metrics are no-ops);
3. `metrics`: the same + `[admin]` (the Prometheus recorder is installed);
4. `audit`: the same + `[admin]` + `[audit] file = "audit.jsonl"`, `sample_allows = 1.0` (one JSON
   line per decision, written by warden's audit thread).

Every figure is given as a ratio to bare hyper of the same round, and 3 and 4 as a ratio to 2 of
the same round (median of the rounds' ratios). At the end of every `metrics` and `audit` run
`/metrics` is scraped: `warden_decisions_total` against the requests wrk reported; after every
`audit` run the audit file's lines against `warden_decisions_total`.

Builds on run.py (imported: its processes pinned and stopped by PID, wrk, CPU and RSS accounting,
the ES256 key, JWKS, token and warden configuration). Work files in bench/work/operate/. Prints
progress on stderr and the Markdown section (ready for BENCHMARKS.md) on stdout. Python standard
library only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.dont_write_bytecode = True  # no bench/__pycache__ left behind
import run as base  # noqa: E402  (the shared machinery: Proc, Stack, wrk, measured, prepare, …)

ROOT = BENCH.parent
# A directory of its own, so this script and run.py (or replicas.py) never delete each other's files.
WORK = BENCH / "work" / "operate"
base.WORK = WORK
AUDIT_FILE = "audit.jsonl"
PATH = "/private/x"

log, mib = base.log, base.mib


def die(msg: str) -> None:
    log(f"operate.py: {msg}")
    sys.exit(1)


@dataclass
class Config:
    name: str
    label: str
    admin: bool = False
    audit: bool = False


CONFIGS = [
    Config("hyper", "bare hyper, 200 (the ceiling)"),
    Config("off", "warden, valid cached JWT: no `[admin]`, no `[audit]` (metrics and audit off)"),
    Config("metrics", "the same + `[admin]` (metrics on)", admin=True),
    Config("audit", "the same + `[admin]` + `[audit] file`, `sample_allows = 1.0` (metrics + audit on)",
           admin=True, audit=True),
]
BY_NAME = {c.name: c for c in CONFIGS}


@dataclass
class Sample:
    """One configuration in one round: a fresh server, a warm-up, one measured wrk run."""

    config: str
    round: int
    load: base.Load
    warm: base.Load
    idle_kib: int
    peak_kib: int
    decisions: int | None = None  # warden_decisions_total, summed over its labels
    series: dict = field(default_factory=dict)  # label set -> value, for the report
    cache: dict = field(default_factory=dict)  # warden_cache_requests_total{cache="jwt"} by result
    audit_lines: int | None = None
    audit_bytes: int = 0
    audit_sample: dict | None = None  # the last audit line, parsed
    notes: list[str] = field(default_factory=list)

    @property
    def sent(self) -> int:
        """Requests wrk completed on this server: the one checked answer, the warm-up, the run."""
        return 1 + self.warm.requests + self.load.requests

    @property
    def cpu_us(self) -> float:
        """Server CPU per request, µs (the inverse of run.py's "req per CPU-s")."""
        return self.load.server_cpu / 100 / max(self.load.rps, 1e-9) * 1e6

    def value(self, metric: str) -> float:
        return {"rps": self.load.rps, "cpu_us": self.cpu_us, "p50": self.load.p50_ms,
                "p99": self.load.p99_ms, "peak": self.peak_kib, "idle": self.idle_kib}[metric]


# --------------------------------------------------------------------------------------------
# Prometheus text and the audit file.


def scrape(port: int) -> str:
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/metrics")
        resp = conn.getresponse()
        body = resp.read().decode(errors="replace")
        if resp.status != 200:
            die(f"GET /metrics on :{port} answered {resp.status}")
        return body
    finally:
        conn.close()


def series(text: str, name: str) -> dict[str, float]:
    """`{labels} -> value` of one metric in Prometheus text (`""` for no labels)."""
    out = {}
    for m in re.finditer(rf"^{re.escape(name)}(\{{[^}}]*\}})?\s+(\S+)", text, re.M):
        out[m.group(1) or ""] = float(m.group(2))
    return out


def count_lines(path: Path) -> tuple[int, int]:
    """(lines, bytes) of a file; (0, 0) when absent."""
    try:
        n, size = 0, 0
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                n += chunk.count(b"\n")
                size += len(chunk)
        return n, size
    except FileNotFoundError:
        return 0, 0


def last_line(path: Path) -> dict | None:
    try:
        with open(path, "rb") as f:
            f.seek(max(0, path.stat().st_size - 4096))
            lines = f.read().splitlines()
        return json.loads(lines[-1]) if lines else None
    except (OSError, ValueError):
        return None


# --------------------------------------------------------------------------------------------


class OperateBench:
    def __init__(self, args):
        self.a = args
        self.b = base.Bench(args)
        self.samples: list[Sample] = []
        self.started = time.monotonic()

    # ---- preparation -----------------------------------------------------------------------

    def prepare(self) -> None:
        b, a = self.b, self.a
        needed = ["wrk", "taskset", "openssl"] + ([] if a.no_build else ["cargo"])
        for tool in needed:
            if not shutil.which(tool):
                die(f"{tool} not found (Debian: apt-get install -y wrk util-linux openssl; Rust: rustup)")
        if os.cpu_count() < 2:
            die("needs two CPUs: the server on CPU 0, the load generator on CPU 1")
        # run.py's prepare writes a Caddyfile unless Caddy is "missing": this script needs none.
        b.missing = {"caddy"}
        if not a.no_build:
            log("building warden (release) and the bench helpers (baseline, mint)…")
            base.run(["cargo", "build", "--release", "--quiet", "-p", "warden-cli"], cwd=ROOT)
            base.run(["cargo", "build", "--release", "--quiet", "--bin", "baseline", "--bin", "mint"], cwd=BENCH)
        for exe in [base.WARDEN, base.BIN / "baseline", base.BIN / "mint"]:
            if not exe.exists():
                die(f"{exe} not built" + (" (run without --no-build, or cargo build --release in bench/)"
                                          if exe.parent == base.BIN else ""))
        # run.py's preparation: ES256 key, JWKS, the admin token, the SQLite store.
        b.prepare(10)
        # A copy of the binary: the shared target dir may be rebuilt while this runs.
        (WORK / "bin").mkdir()
        self.binary_mtime = time.strftime("%Y-%m-%d %H:%M", time.localtime(base.WARDEN.stat().st_mtime))
        shutil.copy2(base.WARDEN, WORK / "bin" / "warden")
        base.WARDEN = WORK / "bin" / "warden"
        self.headers = {"Authorization": f"Bearer {b.tokens['admin']}"}
        for c in CONFIGS[1:]:
            path = WORK / f"warden-{c.name}.toml"
            path.write_text(self.config_text(c))
            out = base.run([str(base.WARDEN), "--config", str(path), "config", "check"], capture_output=True,
                           text=True, check=False)
            if out.returncode != 0:
                die(f"{path.name} rejected by `warden config check`:\n{out.stdout}{out.stderr}")

    def config_text(self, c: Config) -> str:
        """run.py's warden configuration (the `warden-jwt` scenario's), plus the sections."""
        text = self.b.warden_toml(self.b.port(c.name)).replace("bench/run.py", "bench/operate.py (from run.py)")
        if c.admin:
            text += f'\n[admin]\nlisten = "127.0.0.1:{self.b.port(c.name + "-admin")}"\n'
        if c.audit:
            text += f'\n[audit]\nfile = "{AUDIT_FILE}"\nsample_allows = 1.0\n'
        return text

    # ---- one configuration, one round --------------------------------------------------------

    def procs(self, c: Config) -> list[base.Proc]:
        b = self.b
        if c.name == "hyper":
            port = b.port("hyper")
            return [base.Proc("hyper", [str(base.BIN / "baseline"), "--port", str(port)], ready=(port, "/"))]
        return [b.warden_proc(f"warden-{c.name}", f"warden-{c.name}.toml", c.name)]

    def one(self, c: Config, rnd: int) -> Sample:
        a, b = self.a, self.b
        port = b.port(c.name)
        url = f"http://127.0.0.1:{port}{PATH}"
        headers = {} if c.name == "hyper" else self.headers
        audit = WORK / AUDIT_FILE
        if c.audit:
            audit.unlink(missing_ok=True)  # this run's lines only
        with base.Stack(self.procs(c)) as stack:
            time.sleep(0.3)
            idle = stack.rss_kib("VmRSS")
            stack.reset_peak()
            status, _ = base.http_get(port, PATH, headers)
            if status != 200:
                die(f"{c.name}: GET {PATH} answered {status}, expected 200")
            if c.admin:
                admin = b.port(c.name + "-admin")
                status, _ = base.http_get(admin, "/health/live")
                if status != 200:
                    die(f"{c.name}: the admin listener on :{admin} answered {status} to /health/live")
            warm = base.wrk(stack, url, a.warmup, headers, None)
            load = base.wrk(stack, url, a.duration, headers, None)
            if not stack.alive():
                die(f"{c.name}: the server exited during the load:\n" + "\n".join(p.tail() for p in stack.procs))
            peak = stack.rss_kib("VmHWM")  # before the scrape and the file reading below
            s = Sample(c.name, rnd, load, warm, idle, peak)
            if c.admin:
                self.scrape(s, b.port(c.name + "-admin"))
            if c.audit:
                self.read_audit(s, audit, b.port(c.name + "-admin"))
        for x in (warm, load):
            if x.non2xx:
                s.notes.append(f"{x.non2xx} non-2xx answers")
            if x.errors:
                s.notes.append(f"{x.errors} socket errors")
        return s

    def scrape(self, s: Sample, port: int) -> None:
        text = scrape(port)
        s.series = series(text, "warden_decisions_total")
        s.decisions = round(sum(s.series.values()))
        for labels, v in series(text, "warden_cache_requests_total").items():
            if 'cache="jwt"' in labels:
                m = re.search(r'result="(\w+)"', labels)
                s.cache[m.group(1) if m else labels] = round(v)

    def read_audit(self, s: Sample, path: Path, port: int) -> None:
        """Waits for the audit thread to catch up (lines equal to the decisions, or no new line
        for 2 s, at most 30 s), then counts."""
        deadline, last, still = time.monotonic() + 30, -1, time.monotonic()
        while True:
            lines, size = count_lines(path)
            if lines >= (s.decisions or 0) or time.monotonic() > deadline:
                break
            if lines != last:
                last, still = lines, time.monotonic()
            elif time.monotonic() - still > 2:
                break
            time.sleep(0.2)
        self.scrape(s, port)  # again: the count the lines are compared with (admin requests are not decisions)
        s.audit_lines, s.audit_bytes = count_lines(path)
        s.audit_sample = last_line(path)

    # ---- the run -----------------------------------------------------------------------------

    def measure(self) -> None:
        a = self.a
        n = len(CONFIGS)
        for rnd in range(a.rounds):
            order = CONFIGS[rnd % n:] + CONFIGS[:rnd % n]
            for c in order:
                log(f"round {rnd + 1}/{a.rounds}: {c.name}: {c.label}")
                s = self.one(c, rnd)
                self.samples.append(s)
                x = s.load
                log(f"  {x.rps:,.0f} req/s, {s.cpu_us:.2f} µs CPU per request, p50 {x.p50_ms:.2f} ms, "
                    f"p99 {x.p99_ms:.2f} ms, idle {mib(s.idle_kib)}, peak {mib(s.peak_kib)}, "
                    f"server CPU {x.server_cpu:.0f} %, other CPU {x.other_cpu:.0f} %"
                    + (f"; {'; '.join(s.notes)}" if s.notes else ""))
                if s.decisions is not None:
                    log(f"  warden_decisions_total {s.decisions:,} vs wrk {s.sent:,} "
                        f"(1 check + {s.warm.requests:,} warm-up + {x.requests:,} run): {self.decision_verdict(s)}")
                if s.audit_lines is not None:
                    log(f"  audit lines {s.audit_lines:,} vs warden_decisions_total {s.decisions:,}: "
                        f"{self.audit_verdict(s)}")

    # ---- figures -----------------------------------------------------------------------------

    def of(self, name: str) -> list[Sample]:
        return [s for s in self.samples if s.config == name]

    def in_round(self, name: str, rnd: int) -> Sample | None:
        return next((s for s in self.samples if s.config == name and s.round == rnd), None)

    def ratios(self, name: str, metric: str, against: str) -> list[float]:
        """The per-round ratios `name / against` of one metric."""
        out = []
        for s in self.of(name):
            o = self.in_round(against, s.round)
            if o and o.value(metric):
                out.append(s.value(metric) / o.value(metric))
        return out

    def med(self, name: str, metric: str) -> float:
        return statistics.median(s.value(metric) for s in self.of(name))

    @staticmethod
    def fmt_ratio(rs: list[float], spread: bool = False) -> str:
        if not rs:
            return "–"
        text = f"{statistics.median(rs):.2f}×"
        if spread and len(rs) > 1:
            text += f" ({min(rs):.2f}–{max(rs):.2f})"
        return text

    @staticmethod
    def decision_verdict(s: Sample) -> str:
        # wrk counts completed answers; warden counts judged requests, including those in flight
        # (at most one per connection) when the warm-up and the run stopped.
        extra = s.decisions - s.sent
        if 0 <= extra <= 2 * base.CONNECTIONS:
            return f"ok (+{extra}: requests in flight when wrk stopped)"
        return f"**MISMATCH** ({extra:+,})"

    @staticmethod
    def audit_verdict(s: Sample) -> str:
        diff = s.audit_lines - s.decisions
        return "ok (equal)" if diff == 0 else f"**MISMATCH** ({diff:+,})"

    # ---- report ------------------------------------------------------------------------------

    def main_table(self) -> str:
        spread = self.a.rounds > 1
        rows = ["| configuration | req/s (× hyper) | server CPU per request (× hyper) | p50 ms (×) | p99 ms (×) "
                "| idle RSS (×) | peak RSS under load (×) | server CPU | other CPU | notes |",
                "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
        for c in CONFIGS:
            ss = self.of(c.name)
            if not ss:
                continue
            r = lambda m: self.fmt_ratio(self.ratios(c.name, m, "hyper"))  # noqa: E731
            notes = sorted({n for s in ss for n in s.notes})
            if spread:
                notes.insert(0, f"rounds {min(s.load.rps for s in ss):,.0f}–{max(s.load.rps for s in ss):,.0f} req/s")
            server = statistics.median(s.load.server_cpu for s in ss)
            other = statistics.median(s.load.other_cpu for s in ss)
            rows.append(
                f"| `{c.name}` {c.label} | {self.med(c.name, 'rps'):,.0f} ({r('rps')}) "
                f"| {self.med(c.name, 'cpu_us'):.2f} µs ({r('cpu_us')}) "
                f"| {self.med(c.name, 'p50'):.2f} ({r('p50')}) | {self.med(c.name, 'p99'):.2f} ({r('p99')}) "
                f"| {mib(self.med(c.name, 'idle'))} ({r('idle')}) | {mib(self.med(c.name, 'peak'))} ({r('peak')}) "
                f"| {server:.0f} % | {other:.0f} % | {'; '.join(notes)} |")
        return "\n".join(rows)

    def onoff_table(self) -> str:
        spread = self.a.rounds > 1
        metrics = [("rps", "req/s"), ("cpu_us", "server CPU per request"), ("p50", "p50"), ("p99", "p99"),
                   ("peak", "peak RSS")]
        rows = ["| on vs off (same round" + (", median of the rounds, range" if spread else "") + ") | "
                + " | ".join(m[1] for m in metrics) + " |",
                "|---|" + "---:|" * len(metrics)]
        for name, against, label in [("metrics", "off", "metrics on / off (3 / 2)"),
                                     ("audit", "off", "metrics + audit on / off (4 / 2)"),
                                     ("audit", "metrics", "audit on top of metrics (4 / 3)")]:
            cells = [self.fmt_ratio(self.ratios(name, m, against), spread) for m, _ in metrics]
            rows.append(f"| {label} | " + " | ".join(cells) + " |")
        return "\n".join(rows)

    def checks_table(self) -> str:
        rows = ["| round | configuration | answers wrk completed (check + warm-up + run) | `warden_decisions_total` "
                "| decisions vs wrk | JWT cache hit / miss | audit lines | audit lines vs decisions | audit bytes per line |",
                "|---:|---|---:|---:|---|---:|---:|---|---:|"]
        for s in self.samples:
            if s.decisions is None:
                continue
            cache = f"{s.cache.get('hit', 0):,} / {s.cache.get('miss', 0):,}" if s.cache else "–"
            audit = f"{s.audit_lines:,}" if s.audit_lines is not None else "–"
            averdict = self.audit_verdict(s) if s.audit_lines is not None else "–"
            per_line = f"{s.audit_bytes / s.audit_lines:.0f}" if s.audit_lines else "–"
            rows.append(f"| {s.round + 1} | `{s.config}` | {s.sent:,} (1 + {s.warm.requests:,} + {s.load.requests:,}) "
                        f"| {s.decisions:,} | {self.decision_verdict(s)} | {cache} | {audit} | {averdict} | {per_line} |")
        return "\n".join(rows)

    def markdown(self, command: str) -> str:
        a = self.a
        m = base.machine()
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        series_lines = sorted({k for s in self.samples for k in s.series})
        sample = next((s.audit_sample for s in reversed(self.samples) if s.audit_sample), None)
        parts = [
            "## Operating warden: the cost of metrics and the audit trail (cached JWT)",
            "",
            f"`{command}` on {when} ({m['cpu']}, {m['cpus']} CPUs, kernel {m['kernel']}; warden commit "
            f"{m['commit']}, binary built {self.binary_mtime}; {m['wrk'].split(' Copyright')[0]}; "
            f"{a.rounds} round{'s' if a.rounds != 1 else ''}, {time.monotonic() - self.started:.0f} s in all).",
            "",
            f"run.py's `warden-jwt` request (`GET {PATH}`, a valid ES256 JWT, the same token every request, so its "
            "verification is cached) against the same warden configuration three ways: no `[admin]` and no "
            "`[audit]` (metrics are no-ops), with `[admin]` (the Prometheus recorder installed), and with `[admin]` "
            f"+ `[audit] file = \"{AUDIT_FILE}\"`, `sample_allows = 1.0` (a JSON line per decision, written by "
            "warden's audit thread, on the same CPU); bare hyper for the ceiling. The decision log is on in all "
            "three (warden's default, as in run.py). "
            f"Each configuration once per round on a fresh server pinned to CPU 0: `wrk -t{base.WRK_THREADS} "
            f"-c{base.CONNECTIONS} --latency` pinned to CPU 1, a {a.warmup} s warm-up then one {a.duration} s run; "
            "the rounds round-robin (each starts one configuration later) so drift on a shared machine hits "
            "every configuration alike. Figures: the median of the rounds; ratios: the median of each round's "
            "ratio to bare hyper of the same round (on vs off: to `off` of the same round). "
            "\"server CPU per request\": the server's CPU time during the run (schedstat of its threads) per "
            "request, the steadier figure on a busy machine; peak RSS: VmHWM after the run, reset after start-up.",
            "",
            self.main_table(),
            "",
            self.onoff_table(),
            "",
            "Checks, read from `/metrics` (the admin listener) at the end of every run with metrics on, and "
            "from the audit file after its writer caught up: `warden_decisions_total` counts requests warden "
            "judged, wrk the answers it received, so up to one request per connection in flight when the "
            f"warm-up and the run stopped may be counted by warden only (≤ {2 * base.CONNECTIONS}).",
            "",
            self.checks_table(),
        ]
        if series_lines:
            parts += ["", "Series of `warden_decisions_total` seen: " + ", ".join(f"`{x}`" for x in series_lines) + "."]
        if sample:
            parts += ["", f"An audit line (the last of the last run): `{json.dumps(sample, separators=(',', ':'))}`"]
        return "\n".join(parts) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=int, default=5, help="seconds per wrk run (default 5, as run.py)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds, each measuring every configuration once (default 3)")
    ap.add_argument("--warmup", type=int, default=1, help="wrk warm-up seconds per server (default 1)")
    ap.add_argument("--no-build", action="store_true", help="use the binaries already built")
    a = ap.parse_args()
    if a.duration < 1 or a.rounds < 1 or a.warmup < 1:
        die("--duration, --rounds and --warmup must be at least 1")
    command = "python3 bench/operate.py" + "".join(f" {x}" for x in sys.argv[1:])
    o = OperateBench(a)
    o.prepare()
    o.measure()
    print(o.markdown(command))
    log(f"command: {command}")
    bad = [s for s in o.samples if s.decisions is not None and (
        "MISMATCH" in o.decision_verdict(s) or (s.audit_lines is not None and "MISMATCH" in o.audit_verdict(s)))]
    if bad:
        log(f"{len(bad)} check(s) did not match: see the checks table")
        sys.exit(2)


if __name__ == "__main__":
    main()
