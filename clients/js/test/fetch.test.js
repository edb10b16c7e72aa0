import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { createWardenFetch } from "../index.js";

// A stand-in for warden answering the way the gateway does.
let server;
let base;
const hits = new Map();
const signedIn = new Set();

function count(path) {
  hits.set(path, (hits.get(path) ?? 0) + 1);
  return hits.get(path);
}

before(async () => {
  server = http.createServer((req, res) => {
    const n = count(req.url);
    const problem = (status, code) => {
      res.writeHead(status, { "content-type": "application/problem+json", "cache-control": "no-store" });
      res.end(JSON.stringify({ type: "about:blank", status, code, decision_id: `d${n}` }));
    };
    if (req.url === "/private") {
      if (req.headers.authorization === "Bearer good") { res.writeHead(200); return res.end("ok"); }
      res.setHeader("www-authenticate", ['Bearer realm="example"', 'Basic realm="example", charset="UTF-8"']);
      return problem(401, "unauthenticated");
    }
    if (req.url === "/admin") return problem(403, "forbidden");
    if (req.url === "/busy") {
      if (n === 1) { res.setHeader("retry-after", "1"); return problem(429, "too_many_attempts"); }
      res.writeHead(200); return res.end("ok");
    }
    if (req.url === "/very-busy") { res.setHeader("retry-after", "3600"); return problem(429, "too_many_attempts"); }
    res.writeHead(404); res.end();
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${server.address().port}`;
});

after(() => server.close());

test("401 calls onUnauthenticated with the parsed challenges and does not retry by default", async () => {
  const calls = [];
  const f = createWardenFetch({ onUnauthenticated: (info) => { calls.push(info); } });
  const res = await f(`${base}/private`);
  assert.equal(res.status, 401);
  assert.equal(calls.length, 1);
  assert.deepEqual(calls[0].challenges.map((c) => c.scheme), ["Bearer", "Basic"]);
  assert.equal(calls[0].challenges[0].params.realm, "example");
  assert.equal(calls[0].loginUrl, "/.warden/login");
  assert.equal(hits.get("/private"), 1);
});

test("401 retries once after the hook reports a sign-in", async () => {
  let token = "none";
  const f = createWardenFetch({
    fetch: (input, init) => fetch(input, { ...init, headers: { authorization: `Bearer ${token}` } }),
    onUnauthenticated: async () => { token = "good"; return true; },
  });
  const res = await f(`${base}/private`);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), "ok");
});

test("a retry that is still 401 is returned, not looped", async () => {
  let hooks = 0;
  const f = createWardenFetch({ onUnauthenticated: () => { hooks += 1; return true; } });
  const before = hits.get("/private") ?? 0;
  const res = await f(`${base}/private`);
  assert.equal(res.status, 401);
  assert.equal(hooks, 1);
  assert.equal(hits.get("/private") - before, 2);
});

test("403 hands the problem document to onForbidden and never retries", async () => {
  const seen = [];
  const f = createWardenFetch({ onForbidden: (info) => seen.push(info.problem), onUnauthenticated: () => assert.fail("no login on 403") });
  const res = await f(`${base}/admin`);
  assert.equal(res.status, 403);
  assert.equal(seen[0].code, "forbidden");
  assert.equal(hits.get("/admin"), 1);
  assert.equal((await res.json()).status, 403, "the body is still readable");
});

test("429 waits Retry-After once, then retries", async () => {
  const waits = [];
  const f = createWardenFetch({ sleep: async (ms) => { waits.push(ms); } });
  const res = await f(`${base}/busy`);
  assert.equal(res.status, 200);
  assert.deepEqual(waits, [1000]);
});

test("a Retry-After longer than maxRetryAfter returns the 429 at once", async () => {
  const waits = [];
  const f = createWardenFetch({ sleep: async (ms) => { waits.push(ms); }, maxRetryAfter: 30 });
  const res = await f(`${base}/very-busy`);
  assert.equal(res.status, 429);
  assert.deepEqual(waits, []);
});

test("the default hook sends a browser to the login page with its address", async () => {
  const assigned = [];
  globalThis.location = { pathname: "/app/page", search: "?q=1", hash: "#top", assign: (u) => assigned.push(u) };
  try {
    const res = await createWardenFetch()(`${base}/private`);
    assert.equal(res.status, 401);
    assert.deepEqual(assigned, ["/.warden/login?rd=%2Fapp%2Fpage%3Fq%3D1%23top"]);
  } finally {
    delete globalThis.location;
  }
});
