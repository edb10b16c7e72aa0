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

if [[ ! -x "$WARDEN" ]]; then
  echo "run.sh: $WARDEN not found; build it first: cargo build --release -p warden-cli" >&2
  exit 1
fi
if ! command -v "$CADDY" >/dev/null; then
  echo "run.sh: caddy not found (Debian/Ubuntu: apt-get install caddy)" >&2
  exit 1
fi

w() { "$WARDEN" --config "$CONFIG" "$@"; }

# Demo users (only added when missing; the store lives in ./data).
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

WARDEN_PID="" CADDY_PID=""
stop() {
  trap - INT TERM EXIT
  [[ -n "$CADDY_PID" ]] && kill "$CADDY_PID" 2>/dev/null || true
  [[ -n "$WARDEN_PID" ]] && kill "$WARDEN_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  echo "stopped."
}
trap stop INT TERM EXIT

mkdir -p "$DEMO_ROOT/data"
"$WARDEN" --config "$CONFIG" serve & WARDEN_PID=$!
"$CADDY" run --config "$DEMO_ROOT/Caddyfile" --adapter caddyfile 2>"$DEMO_ROOT/data/caddy.log" & CADDY_PID=$!

# Wait until both answer.
for _ in $(seq 50); do
  if curl -fsS -o /dev/null "http://$WARDEN_ADDR/.warden/health" 2>/dev/null &&
     curl -fsS -o /dev/null "http://127.0.0.1:$DEMO_PORT/" 2>/dev/null; then
    break
  fi
  kill -0 "$WARDEN_PID" 2>/dev/null || { echo "run.sh: warden exited" >&2; exit 1; }
  kill -0 "$CADDY_PID" 2>/dev/null || { echo "run.sh: caddy exited; see data/caddy.log" >&2; exit 1; }
  sleep 0.2
done

cat <<MSG

  Demo running: http://127.0.0.1:$DEMO_PORT/   (try http://127.0.0.1:$DEMO_PORT/private/)
  Users: alice / alice-demo-pw (role viewer), admin / admin-demo-pw (role admin)
  Caddy logs: $DEMO_ROOT/data/caddy.log   warden logs: below.   Ctrl-C stops both.

MSG
# Until Ctrl-C, or until one of the two exits.
wait -n "$WARDEN_PID" "$CADDY_PID" || true
