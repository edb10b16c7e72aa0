// A real OpenID Provider (panva/oidc-provider 9) for warden's integration tests. TEST ONLY:
// it signs with the library's fixed development keys and lets anyone sign in as anyone.
//
// Run: OP_CONFIG='{"port":4000,...}' node server.mjs
// It listens on 127.0.0.1:<port> and prints `listening <issuer>` on stdout once ready; every
// other message goes to stderr. State (sessions, grants, tokens) lives in memory only.
//
// OP_CONFIG, one JSON object (only `port` is required):
// {
//   "port": 4000,
//   "issuer": "http://127.0.0.1:4000",           // default: http://127.0.0.1:<port>
//   "clients": [{                                 // oidc-provider client metadata, as is
//     "client_id": "warden", "client_secret": "warden-secret",
//     "redirect_uris": ["http://127.0.0.1:8080/.warden/oidc/callback"],
//     "post_logout_redirect_uris": ["http://127.0.0.1:8080/"],
//     "backchannel_logout_uri": "http://127.0.0.1:8080/.warden/oidc/backchannel",
//     "backchannel_logout_session_required": true,
//     "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
//     "token_endpoint_auth_method": "client_secret_basic"   // the library's default
//   }],
//   "accounts": { "alice": { "email": "alice@example.test", "groups": ["admin"] } },
//                                                 // sub → claims; unknown subs get only `sub`
//   "ttl": { "AccessToken": 300, "ClientCredentials": 300, "IdToken": 300,
//            "RefreshToken": 3600, "Session": 3600, "Grant": 3600 },  // seconds; any
//                                                 // oidc-provider ttl name; AccessToken also
//                                                 // sets ClientCredentials unless given
//   "resources": { "http://127.0.0.1:8081/": { "scope": "api:read api:write",
//                                             "format": "opaque" } },  // or "jwt"
//   "defaultResource": "http://127.0.0.1:8081/",  // used when a request names none
//   "scopes": ["extra"], "claims": { "extra": ["extra"] },   // added to the built-ins below
//   "acrValues": ["pwd", "mfa"],                  // acr_values_supported
//   "defaultAcr": "pwd",                          // acr of a login that names none; default none
//   "refreshTokens": "grant",                     // "grant": to every client with the
//                                                 // refresh_token grant; "offline_access": only
//                                                 // when that scope was granted (the library's)
//   "rotateRefreshToken": false,                  // default: the library's (public clients only)
//   "features": { "backchannelLogout": false },   // switch off any of: devInteractions,
//                                                 // rpInitiatedLogout, backchannelLogout,
//                                                 // introspection, revocation,
//                                                 // clientCredentials, resourceIndicators
//   "jwks": { "keys": [...] }                     // private signing keys; default: dev keys
// }
//
// Built in: scopes openid, offline_access, email (email, email_verified), groups (groups),
// profile (name, preferred_username); PKCE (S256) required for every authorization request;
// the claims parameter is enabled. What the RP gets, as oidc-provider 9.13 does it:
// - the ID token carries the claims of the granted scopes (conformIdTokenClaims: false);
// - `acr` only when the RP asks for it (`acr_values=pwd mfa`, or the claims parameter);
//   `auth_time` with max_age, prompt=login or require_auth_time; `sid` only for clients
//   with backchannel_logout_session_required;
// - the login form accepts any login and password; an extra `acr` field (and `amr`, comma
//   separated) sets the session's acr. A live provider session skips the form: step up with
//   `prompt=login` (or max_age=0, or an essential acr in the claims parameter);
// - refresh and access tokens issued without offline_access end with the provider session;
// - the callback carries `iss` (RFC 9207); the default response mode is query.
// Test-only endpoints: see control.mjs.

import Provider from 'oidc-provider';

import { controlMiddleware } from './control.mjs';
import { Store } from './store.mjs';

const config = JSON.parse(process.env.OP_CONFIG ?? '{}');
if (!Number.isInteger(config.port)) {
  console.error('OP_CONFIG must be JSON with an integer "port"');
  process.exit(2);
}
const issuer = config.issuer ?? `http://127.0.0.1:${config.port}`;
const resources = config.resources ?? {};
const feature = (name) => config.features?.[name] ?? true;

function ttl() {
  const out = { ...config.ttl };
  if (out.AccessToken !== undefined && out.ClientCredentials === undefined) {
    out.ClientCredentials = out.AccessToken;
  }
  return out;
}

function resourceServerInfo(_ctx, indicator) {
  const info = resources[indicator];
  if (!info) throw new Provider.errors.InvalidTarget(`unknown resource ${indicator}`);
  return {
    scope: info.scope ?? '',
    audience: info.audience ?? indicator,
    accessTokenFormat: info.format ?? 'opaque',
    jwt: { sign: { alg: 'RS256' } },
  };
}

const resourceScopes = Object.values(resources).flatMap((r) => (r.scope ?? '').split(' '));

const configuration = {
  adapter: Store,
  clients: config.clients ?? [],
  findAccount: (_ctx, sub) => ({
    accountId: sub,
    claims: () => ({ ...config.accounts?.[sub], sub }),
  }),
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    groups: ['groups'],
    profile: ['name', 'preferred_username'],
    ...config.claims,
  },
  scopes: ['openid', 'offline_access', 'email', 'groups', 'profile', ...(config.scopes ?? [])],
  conformIdTokenClaims: false,
  acrValues: config.acrValues ?? ['pwd', 'mfa'],
  pkce: { required: () => true },
  ttl: ttl(),
  cookies: { keys: ['warden-test-only-cookie-key'] },
  ...(config.jwks ? { jwks: config.jwks } : {}),
  issueRefreshToken: (_ctx, client, code) => client.grantTypeAllowed('refresh_token')
    && (config.refreshTokens === 'offline_access' ? code.scopes.has('offline_access') : true),
  ...(config.rotateRefreshToken === undefined
    ? {} : { rotateRefreshToken: () => config.rotateRefreshToken }),
  // The library refuses to POST back-channel logout tokens to loopback addresses (SSRF
  // protection); warden's tests listen on 127.0.0.1, so use the plain global dispatcher.
  fetch: (url, options) => {
    delete options.dispatcher;
    return globalThis.fetch(url, options);
  },
  features: {
    devInteractions: { enabled: feature('devInteractions') },
    rpInitiatedLogout: { enabled: feature('rpInitiatedLogout') },
    backchannelLogout: { enabled: feature('backchannelLogout') },
    introspection: { enabled: feature('introspection') },
    revocation: { enabled: feature('revocation') },
    clientCredentials: { enabled: feature('clientCredentials') },
    claimsParameter: { enabled: true },
    resourceIndicators: {
      enabled: feature('resourceIndicators'),
      defaultResource: (_ctx, _client, oneOf) => oneOf ?? config.defaultResource,
      useGrantedResource: () => true,
      getResourceServerInfo: resourceServerInfo,
    },
  },
};
if (resourceScopes.length > 0 && !feature('resourceIndicators')) {
  configuration.scopes.push(...resourceScopes);
}

const provider = new Provider(issuer, configuration);
provider.proxy = false;
provider.use(controlMiddleware(provider, config));
provider.on('server_error', (_ctx, err) => console.error(`server_error: ${err?.stack ?? err}`));
for (const event of ['backchannel.error', 'grant.error', 'introspection.error']) {
  provider.on(event, (_ctx, err) => console.error(`${event}: ${err?.message} ${err?.error_detail ?? ''}`));
}

const server = provider.listen(config.port, '127.0.0.1', () => {
  process.stdout.write(`listening ${issuer}\n`);
});
server.on('error', (err) => {
  console.error(`cannot listen on 127.0.0.1:${config.port}: ${err.code ?? err}`);
  process.exit(3);
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
