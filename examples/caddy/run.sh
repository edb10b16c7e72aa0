#!/usr/bin/env bash
# Runs warden behind Caddy on http://127.0.0.1:8082/: warden (127.0.0.1:4182), the demo app
# (../nginx/upstream.py, 127.0.0.1:8092) and Caddy with the Caddyfile, everything it writes
# under data/. Builds nothing: needs target/release/warden (cargo build --release -p
# warden-cli), Caddy 2.6+ and python3. Ctrl-C stops all three.
#
# Overrides: WARDEN (the binary), CADDY (the caddy binary), FRONT_PORT (8082), APP_PORT (8092).
# warden listens where warden.toml says (127.0.0.1:4182).
set -euo pipefail

DEMO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$DEMO_ROOT/../.." && pwd)"
WARDEN="${WARDEN:-$REPO_ROOT/target/release/warden}"
CADDY="${CADDY:-$(command -v caddy || echo /usr/bin/caddy)}"
CONFIG="$DEMO_ROOT/warden.toml"
LOGS="$DEMO_ROOT/data/caddy"            # Caddy's and the app's logs, Caddy's own state
export FRONT_PORT="${FRONT_PORT:-8082}"
APP_PORT="${APP_PORT:-8092}"
export APP_ADDR="127.0.0.1:$APP_PORT"
export WARDEN_ADDR="127.0.0.1:4182"     # keep in step with [server] listen in warden.toml
export XDG_CONFIG_HOME="$LOGS/config" XDG_DATA_HOME="$LOGS/data"
FRONT="http://127.0.0.1:$FRONT_PORT"

source "$DEMO_ROOT/../lib.sh"
need_warden
need "$CADDY" "caddy not found (Debian/Ubuntu: apt-get install caddy; or set CADDY)"
command -v python3 >/dev/null || { echo "run.sh: python3 not found" >&2; exit 1; }

mkdir -p "$LOGS"
ensure_demo_users

start warden - "$WARDEN" --config "$CONFIG" serve
start "the app" "$LOGS/app.log" python3 "$REPO_ROOT/examples/nginx/upstream.py" "$APP_PORT"
start caddy "$LOGS/caddy.log" "$CADDY" run --config "$DEMO_ROOT/Caddyfile" --adapter caddyfile
wait_for "$FRONT/.warden/health"

cat <<MSG

  Running: $FRONT/   (Caddy -> warden $WARDEN_ADDR -> app $APP_ADDR)
  Users: alice / alice-demo-pw (role viewer), admin / admin-demo-pw (role admin)
  Try:
    curl -i $FRONT/private/x                             # 401, one challenge line per scheme
    curl -i -u admin:admin-demo-pw $FRONT/admin/x        # 200 from the app, with the identity
    curl -i -u alice:alice-demo-pw $FRONT/admin/x        # 403
    curl -i -H 'Sec-Fetch-Mode: navigate' $FRONT/private/x   # 302 to /.warden/login?rd=…
  Caddy logs: data/caddy/   warden logs: below.   Ctrl-C stops all three.

MSG
wait_any
