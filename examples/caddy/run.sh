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

if [[ ! -x "$WARDEN" ]]; then
  echo "run.sh: $WARDEN not found; build it first: cargo build --release -p warden-cli" >&2
  exit 1
fi
if [[ ! -x "$CADDY" ]]; then
  echo "run.sh: caddy not found (Debian/Ubuntu: apt-get install caddy; or set CADDY)" >&2
  exit 1
fi
command -v python3 >/dev/null || { echo "run.sh: python3 not found" >&2; exit 1; }

w() { "$WARDEN" --config "$CONFIG" "$@"; }

# Demo users (only added when missing; the store lives in ./data).
mkdir -p "$LOGS"
ensure_user() { # NAME ROLE PASSWORD
  if w user list | awk 'NR > 1 { print $1 }' | grep -qxF "$1"; then
    echo "user $1 exists (role $2; demo password $3 unless you changed it)"
  else
    printf '%s\n' "$3" | w user add "$1" --role "$2" --password-stdin >/dev/null
    echo "added user $1 (role $2) with the demo password: $3"
  fi
}
ensure_user alice viewer alice-demo-pw
ensure_user admin admin admin-demo-pw

WARDEN_PID="" APP_PID="" CADDY_PID=""
stop() {
  trap - INT TERM EXIT
  for pid in "$CADDY_PID" "$APP_PID" "$WARDEN_PID"; do
    [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  echo "stopped."
}
trap stop INT TERM EXIT

"$WARDEN" --config "$CONFIG" serve & WARDEN_PID=$!
python3 "$REPO_ROOT/examples/nginx/upstream.py" "$APP_PORT" 2>"$LOGS/app.log" & APP_PID=$!
"$CADDY" run --config "$DEMO_ROOT/Caddyfile" --adapter caddyfile 2>"$LOGS/caddy.log" & CADDY_PID=$!

# Wait until warden answers through Caddy.
for _ in $(seq 50); do
  if curl -fsS -o /dev/null "$FRONT/.warden/health" 2>/dev/null; then
    break
  fi
  kill -0 "$WARDEN_PID" 2>/dev/null || { echo "run.sh: warden exited" >&2; exit 1; }
  kill -0 "$APP_PID" 2>/dev/null || { echo "run.sh: the app exited; see data/caddy/app.log" >&2; exit 1; }
  kill -0 "$CADDY_PID" 2>/dev/null || { echo "run.sh: caddy exited; see data/caddy/caddy.log" >&2; exit 1; }
  sleep 0.2
done

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
# Until Ctrl-C, or until one of them exits.
wait -n "$WARDEN_PID" "$APP_PID" "$CADDY_PID" || true
