// warden's browser flows in real headless Chromium, behind Caddy's forward_auth, exactly as in
// examples/browser: sign-in with a return address, the 403 page and "Sign in as someone else",
// a page's fetch() getting a 401 (never a redirect), and sign-out.
//
// Needs target/release/warden (cargo build --release -p warden-cli), caddy and chromium.
// Overrides: WARDEN, CADDY, CHROMIUM (paths); CARGO_TARGET_DIR is honoured. Screenshots and logs go to target/e2e/.
//
//   cd tests/e2e && npm install && node --test

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

import { CADDY, CHROMIUM, OUT, REPO, WAIT_MS, WARDEN, freePorts, processes, shot, start, stop, waitForOk } from "./harness.mjs";

const DEMO = path.join(REPO, "examples/browser");
const USERS = {
  alice: { password: "alice-e2e-Pw1", role: "viewer" },
  admin: { password: "admin-e2e-Pw1", role: "admin" },
};

let tmp;
let base;
let browser;

/** A context with every wait bounded. */
async function newContext() {
  const context = await browser.newContext({ baseURL: base });
  context.setDefaultTimeout(WAIT_MS);
  context.setDefaultNavigationTimeout(WAIT_MS);
  return context;
}

/** On the sign-in form: fills it in and submits; resolves with the response of the page landed on. */
async function submitLogin(page, user, landsOn) {
  await page.getByLabel("User name").fill(user);
  await page.getByLabel("Password").fill(USERS[user].password);
  const landed = page.waitForResponse(
    (r) => r.request().isNavigationRequest() && r.request().method() === "GET" && new URL(r.url()).pathname === landsOn,
  );
  await page.getByRole("button", { name: "Sign in" }).click();
  const response = await landed;
  await page.waitForURL((u) => u.pathname === landsOn);
  return response;
}

function assertOnLogin(page, rd) {
  const url = new URL(page.url());
  assert.equal(url.pathname, "/.warden/login", `expected the sign-in page, got ${page.url()}`);
  if (rd !== undefined) assert.equal(url.searchParams.get("rd"), rd);
}

before(async () => {
  for (const [what, file] of [["warden (cargo build --release -p warden-cli)", WARDEN], ["chromium", CHROMIUM]]) {
    assert.ok(existsSync(file), `${what} not found at ${file}`);
  }
  mkdirSync(OUT, { recursive: true });
  tmp = mkdtempSync(path.join(os.tmpdir(), "warden-e2e-"));
  const [wardenPort, caddyPort] = await freePorts(2);

  // The demo's configuration on a free port; its relative data_dir lands in the temp dir.
  const demo = readFileSync(path.join(DEMO, "warden.toml"), "utf8");
  const config = demo.replace(/^listen = "127\.0\.0\.1:4180"/m, `listen = "127.0.0.1:${wardenPort}"`);
  assert.notEqual(config, demo, "the demo's listen line was not found");
  const configFile = path.join(tmp, "warden.toml");
  writeFileSync(configFile, config);

  for (const [name, { password, role }] of Object.entries(USERS)) {
    const added = spawnSync(WARDEN, ["--config", configFile, "user", "add", name, "--role", role, "--password-stdin"], {
      input: `${password}\n`,
      encoding: "utf8",
      timeout: WAIT_MS,
    });
    assert.equal(added.status, 0, `user add ${name}: ${added.stderr}`);
  }

  const warden = start("warden", WARDEN, ["--config", configFile, "serve"], {});
  const caddy = start("caddy", CADDY, ["run", "--config", path.join(DEMO, "Caddyfile"), "--adapter", "caddyfile"], {
    DEMO_ROOT: DEMO,
    JS_ROOT: path.join(REPO, "clients/js"),
    DEMO_PORT: String(caddyPort),
    WARDEN_ADDR: `127.0.0.1:${wardenPort}`,
    // Caddy keeps state (autosaved config) here rather than in $HOME.
    XDG_CONFIG_HOME: path.join(tmp, "xdg-config"),
    XDG_DATA_HOME: path.join(tmp, "xdg-data"),
  });
  base = `http://127.0.0.1:${caddyPort}`;
  await waitForOk(`http://127.0.0.1:${wardenPort}/.warden/health`, "warden", warden);
  await waitForOk(`${base}/`, "caddy", caddy);

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: WAIT_MS,
    // launch() gives every run a fresh, temporary user data dir.
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}, { timeout: 40_000 });

after(async () => {
  await browser?.close().catch(() => {});
  // Caddy first: then warden has no open proxy connections to wait for.
  for (const p of [...processes].reverse()) await stop(p);
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}, { timeout: 20_000 });

describe("browser sign-in through Caddy forward_auth", { timeout: 90_000 }, () => {
  test("a protected page sends the browser to sign in, and back", { timeout: 30_000 }, async () => {
    const context = await newContext();
    const page = await context.newPage();

    const first = await page.goto("/private/");
    assertOnLogin(page, "/private/");
    const redirect = first.request().redirectedFrom();
    assert.ok(redirect, "expected a redirect to the sign-in page");
    assert.equal((await redirect.response()).status(), 302);
    assert.equal(new URL(redirect.url()).pathname, "/private/");
    await shot(page, "01-login");

    // A wrong password: the form again, with a notice, still on the way to /private/.
    await page.getByLabel("User name").fill("alice");
    await page.getByLabel("Password").fill("not-the-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText("The user name or password is wrong.").waitFor();

    const landed = await submitLogin(page, "alice", "/private/");
    assert.equal(landed.status(), 200);
    assert.equal(await page.getByRole("heading", { level: 1 }).textContent(), "Hello, alice");

    const session = (await context.cookies()).find((c) => c.name === "warden_session");
    assert.ok(session, "the session cookie is set");
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, "Lax");
    assert.equal(session.path, "/");
    assert.equal(session.secure, false, "plain http on loopback: no Secure flag");
    await shot(page, "02-private-alice");
    await context.close();
  });

  test("a refused user gets a 403 page and can sign in as someone else", { timeout: 30_000 }, async () => {
    const context = await newContext();
    const page = await context.newPage();
    await page.goto("/private/");
    await submitLogin(page, "alice", "/private/");

    const refused = await page.goto("/admin/");
    assert.equal(refused.status(), 403);
    assert.equal(new URL(page.url()).pathname, "/admin/", "the 403 page is shown in place, not redirected");
    const text = await page.locator("body").innerText();
    assert.match(text, /You are signed in as alice/);
    assert.match(text, /This needs one of these roles: admin\./);
    assert.equal(await page.locator("strong").first().textContent(), "alice");
    await shot(page, "03-admin-403");

    await page.getByRole("link", { name: "Sign in as someone else" }).click();
    await page.waitForURL((u) => u.pathname === "/.warden/login");
    assertOnLogin(page, "/admin/");
    assert.equal(new URL(page.url()).searchParams.get("switch"), "1");
    await page.getByText("You are signed in as alice").waitFor();
    await shot(page, "04-switch-user");

    const landed = await submitLogin(page, "admin", "/admin/");
    assert.equal(landed.status(), 200);
    assert.equal(await page.getByRole("heading", { level: 1 }).textContent(), "Admin area");
    assert.match(await page.locator("body").innerText(), /Welcome, admin\./);
    await shot(page, "05-admin-as-admin");
    await context.close();
  });

  test("a page's fetch() gets a 401 with a challenge, never a redirect", { timeout: 30_000 }, async () => {
    const context = await newContext();
    const page = await context.newPage();
    await page.goto("/");
    await page.getByRole("button", { name: "Load /api/data" }).waitFor();

    // Would Chromium ask for a password itself (its Basic-auth dialog)? DevTools sees such a
    // challenge before any dialog; "cancel" keeps the test going, and the assertion below fails.
    const cdp = await context.newCDPSession(page);
    const authPrompts = [];
    cdp.on("Fetch.requestPaused", (e) => cdp.send("Fetch.continueRequest", { requestId: e.requestId }).catch(() => {}));
    cdp.on("Fetch.authRequired", (e) => {
      authPrompts.push(`${e.authChallenge.scheme} realm="${e.authChallenge.realm}" for ${e.request.url}`);
      cdp.send("Fetch.continueWithAuth", { requestId: e.requestId, authChallengeResponse: { response: "CancelAuth" } }).catch(() => {});
    });
    await cdp.send("Fetch.enable", { handleAuthRequests: true, patterns: [{ urlPattern: "*/api/*" }] });

    const navigations = [];
    const requests = [];
    page.on("framenavigated", (f) => { if (f === page.mainFrame()) navigations.push(f.url()); });
    page.on("request", (r) => requests.push(`${r.method()} ${new URL(r.url()).pathname}`));

    const apiResponse = page.waitForResponse((r) => new URL(r.url()).pathname === "/api/data");
    await page.getByRole("button", { name: "Load /api/data" }).click();
    const response = await apiResponse;
    assert.equal(response.status(), 401);
    assert.equal(response.request().isNavigationRequest(), false);
    assert.equal(response.request().redirectedFrom(), null);
    const headers = await response.allHeaders();
    assert.ok(headers["www-authenticate"], "the 401 carries a challenge");
    assert.equal(
      headers["www-authenticate"],
      'Cookie realm="demo", form-action="/.warden/login", cookie-name="warden_session"',
      "a script is told about the sign-in cookie, not offered Basic",
    );
    assert.match(headers["content-type"], /application\/problem\+json/);
    assert.equal((await response.request().allHeaders())["sec-fetch-mode"], "cors");

    // The helper's hook wrote into the page; the page stayed where it was.
    await page.locator("#result", { hasText: "sign-in needed" }).waitFor();
    assert.match(await page.locator("#result").textContent(), /^401: sign-in needed/);
    assert.equal(new URL(page.url()).pathname, "/");
    assert.deepEqual(navigations, [], "no navigation happened");
    assert.ok(!requests.some((r) => r.includes("/.warden/login")), `no request to the sign-in page: ${requests}`);
    await shot(page, "06-fetch-401");

    // A Basic challenge here would make Chromium open its own password dialog.
    assert.deepEqual(authPrompts, [], "the browser never asked for a password itself");
    await context.close();
  });

  test("signing out ends the session", { timeout: 30_000 }, async () => {
    const context = await newContext();
    const page = await context.newPage();
    await page.goto("/private/");
    await submitLogin(page, "alice", "/private/");
    const oldSession = (await context.cookies()).find((c) => c.name === "warden_session");
    assert.ok(oldSession);

    await page.goto("/.warden/logout");
    await page.getByText("You are signed in as alice").waitFor();
    await shot(page, "07-logout");
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL((u) => u.pathname === "/.warden/login");
    assert.equal((await context.cookies()).find((c) => c.name === "warden_session"), undefined, "the cookie is cleared");

    await page.goto("/private/");
    assertOnLogin(page, "/private/");
    await shot(page, "08-signed-out");

    // The old session is over on the server too, not only forgotten by this browser.
    await context.addCookies([oldSession]);
    await page.goto("/private/");
    assertOnLogin(page, "/private/");
    await context.close();
  });
});
