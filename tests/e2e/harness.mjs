// Shared by the e2e tests: paths, free ports, child processes with logs under target/e2e/,
// bounded waits, screenshots.

import { spawn } from "node:child_process";
import { createWriteStream, existsSync, readFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const TARGET = process.env.CARGO_TARGET_DIR
  ? path.resolve(REPO, process.env.CARGO_TARGET_DIR)
  : path.join(REPO, "target");
export const OUT = path.join(TARGET, "e2e");
export const WARDEN = process.env.WARDEN ?? path.join(TARGET, "release/warden");
export const CADDY = process.env.CADDY ?? "caddy";
export const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

/** Every wait is bounded by this. */
export const WAIT_MS = 15_000;

/** @type {{name: string, child: import("node:child_process").ChildProcess}[]} */
export const processes = [];

// Whatever happens (even a crash of the test runner), the servers do not outlive the tests.
process.on("exit", () => {
  for (const { child } of processes) if (child.exitCode === null) child.kill("SIGKILL");
});

/** Free loopback ports: bound to port 0 together (so they differ), then released. */
export async function freePorts(n) {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise((resolve, reject) => {
      const srv = net.createServer();
      srv.once("error", reject);
      srv.listen(0, "127.0.0.1", () => resolve(srv));
    })),
  );
  const ports = servers.map((s) => s.address().port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

export function start(name, command, args, env) {
  const log = path.join(OUT, `${name}.log`);
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const sink = createWriteStream(log);
  child.stdout.pipe(sink, { end: false });
  child.stderr.pipe(sink, { end: false });
  child.once("error", (err) => sink.write(`spawn failed: ${err.message}\n`));
  processes.push({ name, child, log });
  return child;
}

export function logTail(name) {
  const entry = processes.find((p) => p.name === name);
  if (!entry || !existsSync(entry.log)) return "";
  return readFileSync(entry.log, "utf8").split("\n").slice(-15).join("\n");
}

export async function stop({ child }) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  const timer = new Promise((r) => setTimeout(r, 5_000, "timeout"));
  if ((await Promise.race([exited, timer])) === "timeout") {
    child.kill("SIGKILL");
    await exited;
  }
}

/** Polls url until it answers 200 (bounded), failing early if the process died. */
export async function waitForOk(url, name, child) {
  const deadline = Date.now() + WAIT_MS;
  let last = "no answer";
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`${name} exited with ${child.exitCode}:\n${logTail(name)}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1_000), redirect: "manual" });
      if (res.status === 200) return;
      last = `status ${res.status}`;
    } catch (err) {
      last = err.message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} did not answer ${url} within ${WAIT_MS} ms (${last}):\n${logTail(name)}`);
}

export async function shot(page, name) {
  await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true });
}

