#!/usr/bin/env bash
# Runs warden behind nginx on http://127.0.0.1:8081/: warden (127.0.0.1:4181), the demo app
# (upstream.py, 127.0.0.1:8091) and nginx with nginx.conf, unprivileged, everything it writes
# under data/. Builds nothing: needs target/release/warden (cargo build --release -p
# warden-cli), nginx 1.22+ and python3. Ctrl-C stops all three.
#
# Overrides: WARDEN (the binary), NGINX (the nginx binary). The ports are those of nginx.conf
# and warden.toml.
set -euo pipefail

DEMO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$DEMO_ROOT/../.." && pwd)"
WARDEN="${WARDEN:-$REPO_ROOT/target/release/warden}"
NGINX="${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}"
CONFIG="$DEMO_ROOT/warden.toml"
PREFIX="$DEMO_ROOT/data/nginx"          # nginx's -p: pid, logs, temp files
FRONT="http://127.0.0.1:8081"

source "$DEMO_ROOT/../lib.sh"
need_warden
need "$NGINX" "nginx not found (Debian/Ubuntu: apt-get install nginx; or set NGINX)"
command -v python3 >/dev/null || { echo "run.sh: python3 not found" >&2; exit 1; }

mkdir -p "$PREFIX"
ensure_demo_users

# nginx's master stops its worker on SIGTERM.
start warden - "$WARDEN" --config "$CONFIG" serve
start "the app" "$PREFIX/app.log" python3 "$DEMO_ROOT/upstream.py" 8091
start nginx "$PREFIX/nginx-stderr.log" \
  "$NGINX" -e stderr -p "$PREFIX/" -c "$DEMO_ROOT/nginx.conf" -g 'daemon off;'
wait_for "$FRONT/.warden/health"

cat <<MSG

  Running: $FRONT/   (nginx -> warden 127.0.0.1:4181 -> app 127.0.0.1:8091)
  Users: alice / alice-demo-pw (role viewer), admin / admin-demo-pw (role admin)
  Try:
    curl -i $FRONT/private/x                             # 401, both challenges on one line
    curl -i -u admin:admin-demo-pw $FRONT/admin/x        # 200 from the app, with the identity
    curl -i -u alice:alice-demo-pw $FRONT/admin/x        # 403
    curl -i -H 'Sec-Fetch-Mode: navigate' $FRONT/private/x   # 302 to /.warden/login?rd=…
  nginx logs: data/nginx/   warden logs: below.   Ctrl-C stops all three.

MSG
wait_any
