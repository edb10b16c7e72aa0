#!/usr/bin/env bash
# Runs the local OpenID Provider (tests/oidc-provider, npm oidc-provider) on 127.0.0.1:4000 and
# warden on 127.0.0.1:4180 signing people in through it. Needs target/release/warden
# (cargo build --release -p warden-cli), Node.js >= 20 and npm. Ctrl-C stops both.
set -euo pipefail

DEMO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$DEMO_ROOT/../.." && pwd)"
WARDEN="${WARDEN:-$REPO_ROOT/target/release/warden}"
CONFIG="$DEMO_ROOT/warden.toml"
OP_DIR="$REPO_ROOT/tests/oidc-provider"

source "$DEMO_ROOT/../lib.sh"
need_warden
command -v node >/dev/null || { echo "run.sh: Node.js >= 20 is needed (node)" >&2; exit 1; }
[[ -d "$OP_DIR/node_modules/oidc-provider" ]] || (cd "$OP_DIR" && npm ci --no-audit --no-fund --loglevel=error)
mkdir -p "$DEMO_ROOT/data"

# alice is in `admin`, bob is not; any password works at this provider. Add `mfa` in the
# login form's acr field to pass the /strong/ rule.
export OP_CONFIG='{
  "port": 4000,
  "clients": [{
    "client_id": "warden-demo", "client_secret": "warden-demo-secret",
    "redirect_uris": ["http://127.0.0.1:4180/.warden/oidc/callback"],
    "post_logout_redirect_uris": ["http://127.0.0.1:4180/.warden/login"],
    "backchannel_logout_uri": "http://127.0.0.1:4180/.warden/oidc/backchannel",
    "backchannel_logout_session_required": true,
    "grant_types": ["authorization_code", "refresh_token"]
  }],
  "accounts": {
    "alice": {"email": "alice@example.test", "groups": ["admin"]},
    "bob": {"email": "bob@example.test", "groups": ["staff"]}
  }
}'
start provider "$DEMO_ROOT/data/provider.log" node "$OP_DIR/server.mjs"
wait_for http://127.0.0.1:4000/.well-known/openid-configuration
start warden "$DEMO_ROOT/data/warden.log" "$WARDEN" --config "$CONFIG" serve
wait_for http://127.0.0.1:4180/.warden/health
cat <<MSG

  Open http://127.0.0.1:4180/private/ in a browser: you are sent to the provider; sign in as
  alice (any password) and you land back on /private/, signed in. /admin/ needs alice;
  /strong/ sends you back to sign in with acr "mfa". Sign out at /.warden/logout (also at the
  provider). Logs in $DEMO_ROOT/data/. Ctrl-C stops both.

  curl -i http://127.0.0.1:4180/private/x      → 401 with a Cookie challenge (API clients are never redirected)
  $WARDEN --config $CONFIG session list        → the provider's sessions, as "alice (local)"

MSG
wait_any
