// The test-only side of server.mjs: a koa middleware that runs before the provider's routes.
//
//   GET  /__test/stats                  → {"token": 3, "introspection": 1, ...}: requests per
//                                         oidc-provider route name since start or reset
//                                         (discovery, jwks, authorization, resume, token,
//                                         userinfo, introspection, revocation, end_session,
//                                         end_session_confirm, interaction, submit, ...;
//                                         requests matching no route count as "other")
//   POST /__test/reset                  → zeroes the counts, clears every failure switch
//   POST /__test/backchannel?sub=alice  → ends every session of alice (or ?sid=… for the
//                                         session holding that sid) the way the provider's
//                                         own logout confirmation does: each client of the
//                                         session with a backchannel_logout_uri is sent a
//                                         logout_token (Client#backchannelLogout), grants
//                                         are revoked, the session is destroyed.
//                                         → {"sessions": n, "sent": [{client_id, sid, ok, error?}]}
//   POST /__test/revoke-grants?sub=alice → revokes alice's grants and every token issued
//                                         under them (refresh → invalid_grant) → {"grants": n}
//   POST /__test/fail?path=/token&mode=500|hang|off → requests to that exact path answer 500,
//                                         or hang until mode=off or reset
//   POST /__test/clients  (JSON client metadata, or an array) → validated and stored as
//                                         dynamic clients; a static client of the same id wins
//
// It also takes over the dev login form's submission to honour `acr` (and `amr`).

import * as querystring from 'node:querystring';

import { entries, revokeGrant, Store } from './store.mjs';

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function json(ctx, status, body) {
  ctx.status = status;
  ctx.type = 'application/json';
  ctx.body = JSON.stringify(body);
}

async function backchannel(provider, { sub, sid }) {
  const sessions = entries('Session').filter(([, s]) => (sub !== undefined && s.accountId === sub)
    || (sid !== undefined && Object.values(s.authorizations ?? {}).some((a) => a.sid === sid)));
  const sent = [];
  for (const [id, session] of sessions) {
    for (const [clientId, authz] of Object.entries(session.authorizations ?? {})) {
      const client = await provider.Client.find(clientId);
      if (client?.backchannelLogoutUri) {
        try {
          await client.backchannelLogout(session.accountId, authz.sid);
          sent.push({ client_id: clientId, sid: authz.sid, ok: true });
        } catch (err) {
          sent.push({ client_id: clientId, sid: authz.sid, ok: false, error: String(err) });
        }
      }
      if (authz.grantId && !authz.persistsLogout) revokeGrant(authz.grantId);
    }
    await new Store('Session').destroy(id);
  }
  return { sessions: sessions.length, sent };
}

function revokeGrants(sub) {
  const grants = entries('Grant').filter(([, grant]) => grant.accountId === sub);
  for (const [id] of grants) revokeGrant(id);
  return { grants: grants.length };
}

async function addClients(provider, body) {
  const list = Array.isArray(body) ? body : [body];
  for (const metadata of list) {
    await provider.Client.validate(metadata);
    await new Store('Client').upsert(metadata.client_id, metadata);
  }
  return { clients: list.length };
}

// The dev login form accepts any login; this adds an `acr` (and `amr`) to the login result.
async function submitLogin(provider, config, ctx, form) {
  const { prompt } = await provider.interactionDetails(ctx.req, ctx.res);
  if (prompt.name !== 'login' || !form.login) {
    json(ctx, 400, { error: 'invalid_request', error_description: 'not a login prompt' });
    return;
  }
  const acr = form.acr || config.defaultAcr;
  const amr = form.amr ? String(form.amr).split(',') : undefined;
  const login = { accountId: String(form.login), ...(acr ? { acr } : {}), ...(amr ? { amr } : {}) };
  const returnTo = await provider.interactionResult(ctx.req, ctx.res, { login }, {
    mergeWithLastSubmission: false,
  });
  ctx.status = 303;
  ctx.set('cache-control', 'no-store');
  ctx.set('location', returnTo);
  ctx.body = '';
}

async function control(provider, state, ctx) {
  const q = ctx.query;
  const route = `${ctx.method} ${ctx.path}`;
  if (route === 'GET /__test/stats') return json(ctx, 200, state.counts);
  if (route === 'POST /__test/reset') {
    state.counts = {};
    for (const path of Object.keys(state.failing)) release(state, path);
    return json(ctx, 200, {});
  }
  if (route === 'POST /__test/backchannel') return json(ctx, 200, await backchannel(provider, q));
  if (route === 'POST /__test/revoke-grants') return json(ctx, 200, revokeGrants(q.sub));
  if (route === 'POST /__test/clients') {
    return json(ctx, 200, await addClients(provider, JSON.parse(await readBody(ctx.req))));
  }
  if (route === 'POST /__test/fail' && ['500', 'hang', 'off'].includes(q.mode) && q.path) {
    release(state, q.path);
    if (q.mode !== 'off') state.failing[q.path] = { mode: q.mode, waiting: [] };
    return json(ctx, 200, {});
  }
  return json(ctx, 404, { error: 'not_found' });
}

function release(state, path) {
  for (const resolve of state.failing[path]?.waiting ?? []) resolve();
  delete state.failing[path];
}

function count(state, name) {
  state.counts[name] = (state.counts[name] ?? 0) + 1;
}

export function controlMiddleware(provider, config) {
  const state = { counts: {}, failing: {} };
  return async function testControl(ctx, next) {
    if (ctx.path.startsWith('/__test/')) {
      try {
        await control(provider, state, ctx);
      } catch (err) {
        json(ctx, 500, { error: String(err?.message ?? err) });
      }
      return;
    }
    const failure = state.failing[ctx.path];
    if (failure?.mode === 'hang') {
      await new Promise((resolve) => failure.waiting.push(resolve));
    } else if (failure?.mode === '500') {
      count(state, `failed ${ctx.path}`);
      json(ctx, 500, { error: 'server_error', error_description: 'injected by /__test/fail' });
      return;
    }
    if (ctx.method === 'POST' && /^\/interaction\/[^/]+$/.test(ctx.path)) {
      const form = querystring.parse(await readBody(ctx.req));
      if (form.prompt === 'login') {
        count(state, 'submit');
        await submitLogin(provider, config, ctx, form);
        return;
      }
      ctx.request.body = form; // the stream is read: the provider falls back to this
    }
    try {
      await next();
    } finally {
      count(state, ctx.oidc?.route ?? 'other');
    }
  };
}
