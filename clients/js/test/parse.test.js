import { test } from "node:test";
import assert from "node:assert/strict";
import { parseChallenges, retryAfterSeconds } from "../index.js";

test("parses warden's challenges, one per line joined", () => {
  const got = parseChallenges(
    'Bearer realm="example", error="invalid_token", error_description="the access token expired", Basic realm="example", charset="UTF-8"',
  );
  assert.deepEqual(got, [
    { scheme: "Bearer", params: { realm: "example", error: "invalid_token", error_description: "the access token expired" } },
    { scheme: "Basic", params: { realm: "example", charset: "UTF-8" } },
  ]);
});

test("quoted-pair escapes and case-insensitive parameter names", () => {
  const got = parseChallenges('Bearer REALM="a \\"b\\" \\\\c", scope="orders:write orders:read"');
  assert.equal(got.length, 1);
  assert.equal(got[0].params.realm, 'a "b" \\c');
  assert.equal(got[0].params.scope, "orders:write orders:read");
});

test("token values, empty list elements and token68", () => {
  assert.deepEqual(parseChallenges('Basic , realm="foo"'), [{ scheme: "Basic", params: { realm: "foo" } }]);
  assert.deepEqual(parseChallenges("Basic realm=foo"), [{ scheme: "Basic", params: { realm: "foo" } }]);
  assert.deepEqual(parseChallenges("Negotiate YIIBhgYGKwYBBQUCoIIBejCCAXa=="), [
    { scheme: "Negotiate", params: {}, token68: "YIIBhgYGKwYBBQUCoIIBejCCAXa==" },
  ]);
  assert.deepEqual(parseChallenges('Newauth realm="apps", type=1, Basic realm="simple"'), [
    { scheme: "Newauth", params: { realm: "apps", type: "1" } },
    { scheme: "Basic", params: { realm: "simple" } },
  ]);
  assert.deepEqual(parseChallenges(null), []);
});

test("Retry-After as seconds or an HTTP-date", () => {
  assert.equal(retryAfterSeconds("42"), 42);
  const now = Date.parse("2026-11-25T12:00:00Z");
  assert.equal(retryAfterSeconds("Wed, 25 Nov 2026 12:00:10 GMT", now), 10);
  assert.equal(retryAfterSeconds("Wed, 25 Nov 2026 11:00:00 GMT", now), 0);
  assert.equal(retryAfterSeconds("soon"), null);
  assert.equal(retryAfterSeconds(null), null);
});

test("warden's Cookie challenge for browser scripts", () => {
  assert.deepEqual(parseChallenges('Cookie realm="demo", form-action="/.warden/login", cookie-name="warden_session"'), [
    { scheme: "Cookie", params: { realm: "demo", "form-action": "/.warden/login", "cookie-name": "warden_session" } },
  ]);
});
