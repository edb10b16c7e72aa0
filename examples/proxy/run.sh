#!/usr/bin/env bash
# Runs the reverse-proxy demo: warden on http://127.0.0.1:4180/ in front of a static site
# (python3 -m http.server on 127.0.0.1:8081). Needs target/release/warden
# (cargo build --release -p warden-cli) and python3. Ctrl-C stops both.
set -euo pipefail

DEMO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$DEMO_ROOT/../.." && pwd)"
WARDEN="${WARDEN:-$REPO_ROOT/target/release/warden}"
CONFIG="$DEMO_ROOT/warden.toml"

if [[ ! -x "$WARDEN" ]]; then
  echo "run.sh: $WARDEN not found; build it first: cargo build --release -p warden-cli" >&2
  exit 1
fi
w() { "$WARDEN" --config "$CONFIG" "$@"; }
ensure_user() { # NAME ROLE PASSWORD
  if ! w user list | awk 'NR > 1 { print $1 }' | grep -qxF "$1"; then
    printf '%s\n' "$3" | w user add "$1" --role "$2" --password-stdin >/dev/null
  fi
  echo "user $1 (role $2), demo password: $3"
}
mkdir -p "$DEMO_ROOT/data"
ensure_user alice viewer alice-demo-pw
ensure_user admin admin admin-demo-pw

UPSTREAM_PID="" WARDEN_PID=""
stop() {
  trap - INT TERM EXIT
  [[ -n "$WARDEN_PID" ]] && kill "$WARDEN_PID" 2>/dev/null || true
  [[ -n "$UPSTREAM_PID" ]] && kill "$UPSTREAM_PID" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

python3 -m http.server 8081 --bind 127.0.0.1 --directory "$DEMO_ROOT/site" \
  2>"$DEMO_ROOT/data/upstream.log" & UPSTREAM_PID=$!
"$WARDEN" --config "$CONFIG" serve & WARDEN_PID=$!
for _ in $(seq 50); do
  curl -fsS -o /dev/null http://127.0.0.1:4180/.warden/health 2>/dev/null && break
  kill -0 "$WARDEN_PID" 2>/dev/null || { echo "run.sh: warden exited" >&2; exit 1; }
  sleep 0.2
done
cat <<MSG

  Demo running: http://127.0.0.1:4180/  (then /private/ and /admin/)
  curl -i http://127.0.0.1:4180/private/                 → 401 with a Basic challenge
  curl -i -u admin:admin-demo-pw http://127.0.0.1:4180/admin/   → the upstream's page
  Ctrl-C stops both.

MSG
wait -n "$WARDEN_PID" "$UPSTREAM_PID" || true
