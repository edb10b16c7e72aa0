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

if [[ ! -x "$WARDEN" ]]; then
  echo "run.sh: $WARDEN not found; build it first: cargo build --release -p warden-cli" >&2
  exit 1
fi
if [[ ! -x "$NGINX" ]]; then
  echo "run.sh: nginx not found (Debian/Ubuntu: apt-get install nginx; or set NGINX)" >&2
  exit 1
fi
command -v python3 >/dev/null || { echo "run.sh: python3 not found" >&2; exit 1; }

w() { "$WARDEN" --config "$CONFIG" "$@"; }

# Demo users (only added when missing; the store lives in ./data).
mkdir -p "$PREFIX"
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

WARDEN_PID="" APP_PID="" NGINX_PID=""
stop() {
  trap - INT TERM EXIT
  # nginx's master stops its worker on SIGTERM.
  for pid in "$NGINX_PID" "$APP_PID" "$WARDEN_PID"; do
    [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  echo "stopped."
}
trap stop INT TERM EXIT

"$WARDEN" --config "$CONFIG" serve & WARDEN_PID=$!
python3 "$DEMO_ROOT/upstream.py" 8091 2>"$PREFIX/app.log" & APP_PID=$!
"$NGINX" -e stderr -p "$PREFIX/" -c "$DEMO_ROOT/nginx.conf" -g 'daemon off;' \
  2>"$PREFIX/nginx-stderr.log" & NGINX_PID=$!

# Wait until warden answers through nginx.
for _ in $(seq 50); do
  if curl -fsS -o /dev/null "$FRONT/.warden/health" 2>/dev/null; then
    break
  fi
  kill -0 "$WARDEN_PID" 2>/dev/null || { echo "run.sh: warden exited" >&2; exit 1; }
  kill -0 "$APP_PID" 2>/dev/null || { echo "run.sh: the app exited; see data/nginx/app.log" >&2; exit 1; }
  kill -0 "$NGINX_PID" 2>/dev/null || { echo "run.sh: nginx exited; see data/nginx/nginx-stderr.log" >&2; exit 1; }
  sleep 0.2
done

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
# Until Ctrl-C, or until one of them exits.
wait -n "$WARDEN_PID" "$APP_PID" "$NGINX_PID" || true
