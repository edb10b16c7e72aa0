// The Express + jsonwebtoken peer: what a Node user writes without warden.
//
//   node server.js --port P --jwks FILE --issuer ISS --audience AUD [--realm R]
//
// GET /private/*: a valid ES256 token (signature, exp, iss, aud) -> 200, otherwise 401 with
//   WWW-Authenticate: Bearer realm="R" (plus error="invalid_token" for a bad token).
// GET /admin/*: as above, and the roles claim must hold "admin" -> otherwise 403.
// Every request's signature is checked (no cache), as in the usual examples.
'use strict';

const fs = require('node:fs');
const crypto = require('node:crypto');
const express = require('express');
const jwt = require('jsonwebtoken');

function args(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || argv[i + 1] === undefined) {
      console.error(`error: bad argument ${argv[i]}`);
      process.exit(2);
    }
    out[argv[i].slice(2)] = argv[i + 1];
  }
  return out;
}

const opts = args(process.argv.slice(2));
const jwk = JSON.parse(fs.readFileSync(opts.jwks, 'utf8')).keys[0];
const key = crypto.createPublicKey({ key: jwk, format: 'jwk' });
const realm = opts.realm || 'bench';
const verifyOptions = {
  algorithms: ['ES256'],
  issuer: opts.issuer,
  audience: opts.audience,
  clockTolerance: 30,
};

function authenticate(req, res, next) {
  const header = req.get('authorization');
  if (!header || !header.startsWith('Bearer ')) {
    res.set('WWW-Authenticate', `Bearer realm="${realm}"`).status(401).send('unauthorized\n');
    return;
  }
  jwt.verify(header.slice(7), key, verifyOptions, (err, claims) => {
    if (err) {
      res
        .set('WWW-Authenticate', `Bearer realm="${realm}", error="invalid_token"`)
        .status(401)
        .send('unauthorized\n');
      return;
    }
    req.user = claims;
    next();
  });
}

function requireRole(role) {
  return (req, res, next) => {
    const roles = Array.isArray(req.user.roles) ? req.user.roles : [];
    if (!roles.includes(role)) {
      res.status(403).send('forbidden\n');
      return;
    }
    next();
  };
}

const app = express();
app.disable('x-powered-by');
app.disable('etag');
const ok = (req, res) => res.set('X-Auth-Subject', req.user.sub).send('ok\n');
app.get('/private/{*rest}', authenticate, ok);
app.get('/admin/{*rest}', authenticate, requireRole('admin'), ok);

app.listen(Number(opts.port), '127.0.0.1');
