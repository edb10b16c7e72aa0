#!/usr/bin/env bash
# Runs the reverse-proxy demo: warden on http://127.0.0.1:4180/ in front of a static site
# (python3 -m http.server on 127.0.0.1:8081). Needs target/release/warden
# (cargo build --release -p warden-cli) and python3. Ctrl-C stops both.
set -euo pipefail

DEMO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$DEMO_ROOT/../.." && pwd)"
WARDEN="${WARDEN:-$REPO_ROOT/target/release/warden}"
CONFIG="$DEMO_ROOT/warden.toml"

source "$DEMO_ROOT/../lib.sh"
need_warden
mkdir -p "$DEMO_ROOT/data"
ensure_demo_users

start upstream "$DEMO_ROOT/data/upstream.log" \
  python3 -m http.server 8081 --bind 127.0.0.1 --directory "$DEMO_ROOT/site"
start warden - "$WARDEN" --config "$CONFIG" serve
wait_for http://127.0.0.1:4180/.warden/health
cat <<MSG

  Demo running: http://127.0.0.1:4180/  (then /private/ and /admin/)
  curl -i http://127.0.0.1:4180/private/                 → 401 with a Basic challenge
  curl -i -u admin:admin-demo-pw http://127.0.0.1:4180/admin/   → the upstream's page
  Ctrl-C stops both.

MSG
wait_any
