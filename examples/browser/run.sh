#!/usr/bin/env bash
# Runs the browser demo: warden (decision server) behind Caddy, on http://127.0.0.1:8080/.
# Needs target/release/warden (cargo build --release -p warden-cli) and caddy 2.6+ on PATH.
# Ctrl-C stops both.
#
# Overrides: WARDEN (the binary), CADDY (the caddy binary), DEMO_PORT (8080).
# warden listens where warden.toml says (127.0.0.1:4180).
set -euo pipefail

DEMO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$DEMO_ROOT/../.." && pwd)"
WARDEN="${WARDEN:-$REPO_ROOT/target/release/warden}"
CADDY="${CADDY:-caddy}"
CONFIG="$DEMO_ROOT/warden.toml"
export DEMO_ROOT
export JS_ROOT="$REPO_ROOT/clients/js"
export DEMO_PORT="${DEMO_PORT:-8080}"
export WARDEN_ADDR="127.0.0.1:4180"    # keep in step with [server] listen in warden.toml

source "$DEMO_ROOT/../lib.sh"
need_warden
command -v "$CADDY" >/dev/null || { echo "run.sh: caddy not found (Debian/Ubuntu: apt-get install caddy)" >&2; exit 1; }

mkdir -p "$DEMO_ROOT/data"
ensure_demo_users

start warden - "$WARDEN" --config "$CONFIG" serve
start caddy "$DEMO_ROOT/data/caddy.log" "$CADDY" run --config "$DEMO_ROOT/Caddyfile" --adapter caddyfile
wait_for "http://$WARDEN_ADDR/.warden/health"
wait_for "http://127.0.0.1:$DEMO_PORT/"

cat <<MSG

  Demo running: http://127.0.0.1:$DEMO_PORT/   (try http://127.0.0.1:$DEMO_PORT/private/)
  Users: alice / alice-demo-pw (role viewer), admin / admin-demo-pw (role admin)
  Caddy logs: $DEMO_ROOT/data/caddy.log   warden logs: below.   Ctrl-C stops both.

MSG
wait_any
