#!/usr/bin/env bash
# Runs two warden replicas (127.0.0.1:4181 and :4182) on one PostgreSQL and one Redis, as the
# machine's defaults in warden.toml say (edit the URLs for yours). Needs target/release/warden
# (cargo build --release -p warden-cli), psql and redis-cli. Ctrl-C stops both.
set -euo pipefail

DEMO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$DEMO_ROOT/../.." && pwd)"
WARDEN="${WARDEN:-$REPO_ROOT/target/release/warden}"
CONFIG="$DEMO_ROOT/warden.toml"

source "$DEMO_ROOT/../lib.sh"
need_warden
mkdir -p "$DEMO_ROOT/data"
psql -q -h 127.0.0.1 -U postgres -d test -c 'CREATE SCHEMA IF NOT EXISTS warden_demo'
w migrate
ensure_demo_users

# The second replica: the same file with another listen address.
sed 's/127.0.0.1:4181/127.0.0.1:4182/' "$CONFIG" >"$DEMO_ROOT/data/replica-b.toml"
start replica-a "$DEMO_ROOT/data/replica-a.log" "$WARDEN" --config "$CONFIG" serve
start replica-b "$DEMO_ROOT/data/replica-b.log" "$WARDEN" --config "$DEMO_ROOT/data/replica-b.toml" serve
wait_for http://127.0.0.1:4181/.warden/health
wait_for http://127.0.0.1:4182/.warden/health
KEY=$(w key create --name demo-ci --role deployer 2>/dev/null)
cat <<MSG

  Two replicas: http://127.0.0.1:4181/ and http://127.0.0.1:4182/ (logs in $DEMO_ROOT/data/)
  curl -i -H "X-API-Key: $KEY" http://127.0.0.1:4182/private/x      → 200 on either
  $WARDEN --config $CONFIG key revoke \$(w key list | awk '/demo-ci/ {print \$1; exit}')
                                                                       → 401 on both within 1 s
  curl -i -u alice:alice-demo-pw http://127.0.0.1:4181/private/x     → 200; sign in on :4181/.warden/login,
                                                                       the cookie works on :4182
  curl -i http://127.0.0.1:4181/.warden/health                         → names store and state
  Ctrl-C stops both.

MSG
wait_any
