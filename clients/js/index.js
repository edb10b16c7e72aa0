// @warden/fetch: wraps fetch so a page reacts to warden's answers the way they are meant:
// 401 → sign in (then retry once), 403 → tell the user (never a login loop), 429 → wait the
// announced Retry-After once. No dependencies; works in browsers and Node >= 18.

const DEFAULT_LOGIN_URL = "/.warden/login";

/**
 * Parses a WWW-Authenticate value (or several lines joined with ", ") into challenges.
 * Follows RFC 9110 §11: scheme names and parameter names are case-insensitive, values are
 * tokens or quoted-strings with backslash escapes, a token68 may follow the scheme.
 * @param {string | null | undefined} header
 * @returns {{scheme: string, params: Record<string, string>, token68?: string}[]}
 */
export function parseChallenges(header) {
  const out = [];
  if (!header) return out;
  const s = String(header);
  let i = 0;
  const tchar = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
  const skipWs = () => { while (i < s.length && (s[i] === " " || s[i] === "\t")) i++; };
  const token = () => { const start = i; while (i < s.length && tchar.test(s[i])) i++; return s.slice(start, i); };
  const quoted = () => {
    let v = ""; i++; // opening quote
    while (i < s.length && s[i] !== '"') {
      if (s[i] === "\\" && i + 1 < s.length) i++;
      v += s[i++];
    }
    i++; // closing quote
    return v;
  };
  let current = null;
  while (i < s.length) {
    skipWs();
    if (s[i] === ",") { i++; continue; }
    const start = i;
    const name = token();
    if (!name) { i++; continue; }
    skipWs();
    if (s[i] === "=" && current && s[i + 1] !== "=") {
      // an auth-param of the current challenge
      i++; skipWs();
      const value = s[i] === '"' ? quoted() : token();
      current.params[name.toLowerCase()] = value;
      continue;
    }
    i = start + name.length;
    current = { scheme: name, params: {} };
    out.push(current);
    skipWs();
    // a token68 right after the scheme
    const m = /^[A-Za-z0-9\-._~+/]+=*(?=\s*(,|$))/.exec(s.slice(i));
    if (m && !/^[A-Za-z0-9!#$%&'*+\-.^_`|~]+\s*=[^=]/.test(s.slice(i))) {
      current.token68 = m[0];
      i += m[0].length;
    }
  }
  return out;
}

/**
 * Seconds to wait from a Retry-After value (delay-seconds or an HTTP-date).
 * @param {string | null} value
 * @param {number} now milliseconds since the epoch
 * @returns {number | null}
 */
export function retryAfterSeconds(value, now = Date.now()) {
  if (value == null || value === "") return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

/** The browser's current address, as a return address for the login page. */
function currentAddress() {
  const loc = globalThis.location;
  return loc ? loc.pathname + loc.search + loc.hash : "/";
}

/**
 * Creates a fetch that handles warden's answers.
 * @param {object} [options]
 * @param {typeof fetch} [options.fetch] the underlying fetch (default: globalThis.fetch)
 * @param {string} [options.loginUrl] the sign-in page (default "/.warden/login")
 * @param {(info: {response: Response, challenges: ReturnType<typeof parseChallenges>, loginUrl: string}) => (boolean | void | Promise<boolean | void>)} [options.onUnauthenticated]
 *   called on 401; resolve to `true` once signed in to retry the request once. The default
 *   sends the browser to the login page with the current address.
 * @param {(info: {response: Response, problem: object | null}) => void} [options.onForbidden]
 *   called on 403 with the problem+json body, if any. Never retries: new credentials would
 *   not change a 403.
 * @param {number} [options.maxRetryAfter] longest Retry-After (seconds) waited before one
 *   retry on 429 (default 30); longer waits return the 429.
 * @param {(ms: number) => Promise<void>} [options.sleep]
 */
export function createWardenFetch(options = {}) {
  const baseFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const loginUrl = options.loginUrl ?? DEFAULT_LOGIN_URL;
  const maxRetryAfter = options.maxRetryAfter ?? 30;
  const sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  const onUnauthenticated = options.onUnauthenticated ?? (({ challenges }) => {
    // warden names its sign-in form in a `Cookie` challenge (form-action) when it has one.
    const form = challenges.find((c) => c.scheme.toLowerCase() === "cookie")?.params["form-action"];
    const target = `${form ?? loginUrl}?rd=${encodeURIComponent(currentAddress())}`;
    if (globalThis.location) globalThis.location.assign(target);
    return false;
  });
  const onForbidden = options.onForbidden ?? (() => {});

  return async function wardenFetch(input, init) {
    // A Request body can be read once: keep a copy so one retry is possible.
    const again = () => baseFetch(input instanceof Request ? input.clone() : input, init);
    let response = await again();
    if (response.status === 429) {
      const wait = retryAfterSeconds(response.headers.get("retry-after"));
      if (wait !== null && wait <= maxRetryAfter) {
        await sleep(wait * 1000);
        response = await again();
      }
    }
    if (response.status === 401) {
      const challenges = parseChallenges(response.headers.get("www-authenticate"));
      const signedIn = await onUnauthenticated({ response, challenges, loginUrl });
      if (signedIn === true) response = await again();
    } else if (response.status === 403) {
      onForbidden({ response, problem: await problemOf(response) });
    }
    return response;
  };
}

async function problemOf(response) {
  const type = response.headers.get("content-type") ?? "";
  if (!/^application\/(problem\+)?json/i.test(type)) return null;
  try {
    return await response.clone().json();
  } catch {
    return null;
  }
}
