// Sign-in through an identity provider in real headless Chromium: warden (decision server,
// its only way in an OpenID Provider) and the local oidc-provider of tests/oidc-provider. A
// person opens a protected page, is sent to the provider, types into its login page, consents,
// and lands on the page they asked for, signed in; /.warden/logout signs out at the provider too.
//
// Needs target/release/warden, chromium, and `npm ci` in tests/oidc-provider (.ci/run does it).
// Screenshots and logs go to target/e2e/ (oidc-*.png).

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

import { CHROMIUM, OUT, REPO, WAIT_MS, WARDEN, freePorts, processes, shot, start, stop, waitForOk } from "./harness.mjs";

const OP_DIR = path.join(REPO, "tests/oidc-provider");
let tmp;
let base;
let issuer;
let browser;

before(async () => {
  for (const [what, file] of [
    ["warden (cargo build --release -p warden-cli)", WARDEN],
    ["chromium", CHROMIUM],
    ["oidc-provider (npm ci in tests/oidc-provider)", path.join(OP_DIR, "node_modules/oidc-provider")],
  ]) {
    assert.ok(existsSync(file), `${what} not found at ${file}`);
  }
  mkdirSync(OUT, { recursive: true });
  tmp = mkdtempSync(path.join(os.tmpdir(), "warden-e2e-oidc-"));
  const [wardenPort, opPort] = await freePorts(2);
  base = `http://127.0.0.1:${wardenPort}`;
  issuer = `http://127.0.0.1:${opPort}`;
  const opConfig = {
    port: opPort,
    clients: [{
      client_id: "warden", client_secret: "e2e-secret",
      redirect_uris: [`${base}/.warden/oidc/callback`],
      post_logout_redirect_uris: [`${base}/.warden/login`],
      grant_types: ["authorization_code", "refresh_token"],
    }],
    accounts: { alice: { email: "alice@example.test", groups: ["admin"] } },
  };
  writeFileSync(path.join(tmp, "secret"), "e2e-secret\n");
  writeFileSync(path.join(tmp, "warden.toml"), `version = 1
[server]
listen = "127.0.0.1:${wardenPort}"
realm = "e2e"
data_dir = "data"
[[authn.oidc]]
name = "local"
display_name = "Local IdP"
issuer = "${issuer}"
client_id = "warden"
client_secret_file = "secret"
scopes = ["openid", "email", "groups"]
roles_claim = "groups"
dangerous_allow_http = true
[login]
[[rule]]
name = "private"
path = "/private/**"
require = { roles = ["admin"] }
`);
  const op = start("oidc-provider", "node", [path.join(OP_DIR, "server.mjs")], { OP_CONFIG: JSON.stringify(opConfig) });
  await waitForOk(`${issuer}/.well-known/openid-configuration`, "oidc-provider", op);
  const warden = start("warden-oidc", WARDEN, ["--config", path.join(tmp, "warden.toml"), "serve"], {});
  await waitForOk(`${base}/.warden/health`, "warden-oidc", warden);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: WAIT_MS,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
}, { timeout: 40_000 });

after(async () => {
  await browser?.close().catch(() => {});
  for (const p of [...processes].reverse()) await stop(p);
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}, { timeout: 20_000 });

describe("sign-in through an OpenID Provider", { timeout: 90_000 }, () => {
  test("a person signs in at the provider and lands where they were going", { timeout: 60_000 }, async () => {
    const context = await browser.newContext();
    context.setDefaultTimeout(WAIT_MS);
    context.setDefaultNavigationTimeout(WAIT_MS);
    const page = await context.newPage();

    await page.goto(`${base}/private/report?year=2026`);
    assert.ok(page.url().startsWith(`${issuer}/`), `sent to the provider, got ${page.url()}`);
    await page.locator('input[name="login"]').waitFor();
    await shot(page, "oidc-01-provider-login");
    await page.locator('input[name="login"]').fill("alice");
    await page.locator('input[name="password"]').fill("any password");
    await page.locator('button[type="submit"]').click();
    // The provider asks for consent once; then the browser goes back through the callback.
    await page.waitForURL((u) => u.origin === base || u.pathname.startsWith("/interaction/"));
    if (new URL(page.url()).origin !== base) {
      await shot(page, "oidc-02-provider-consent");
      await page.locator('button[type="submit"]').click();
    }
    await page.waitForURL((u) => u.origin === base && u.pathname === "/private/report");
    assert.equal(new URL(page.url()).search, "?year=2026");
    const again = await page.goto(`${base}/private/report?year=2026`);
    assert.equal(again.status(), 200);
    const headers = again.headers();
    assert.equal(headers["x-auth-subject"], "alice");
    assert.equal(headers["x-auth-roles"], "admin");
    assert.equal(headers["x-auth-method"], "oidc");
    const session = (await context.cookies(base)).find((c) => c.name === "warden_session");
    assert.ok(session?.value.startsWith("wdf_"), "a warden session from the provider");
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, "Lax");
    await shot(page, "oidc-03-signed-in");

    // Sign out: warden's form, then the provider's logout page, then back to warden.
    await page.goto(`${base}/.warden/logout`);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL((u) => u.origin === issuer);
    await shot(page, "oidc-04-provider-logout");
    await page.getByRole("button", { name: "Yes, sign me out" }).click();
    // Back at warden's sign-in page, which (the provider being the only way in) goes straight
    // to the provider: it asks for a login again, so the provider's session ended too.
    await page.waitForURL((u) => u.origin === issuer && u.pathname.startsWith("/interaction/"));
    await page.locator('input[name="login"]').waitFor();
    await shot(page, "oidc-05-signed-out-everywhere");
    const after = await context.request.get(`${base}/private/report`, { maxRedirects: 0 });
    assert.equal(after.status(), 401, "signed out at warden");
    await context.close();
  });
});
