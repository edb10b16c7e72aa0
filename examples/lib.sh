# Shared by the examples' run.sh scripts (sourced, not run): checks, demo users, starting the
# processes, waiting for them, and stopping them all on Ctrl-C or when one exits.
# Expects WARDEN (the binary) and CONFIG (its warden.toml) to be set.

NAMES=() PIDS=() LOGFILES=()

# need PATH "what to tell the user"
need() {
  [[ -x "$1" ]] || { echo "run.sh: $2" >&2; exit 1; }
}

need_warden() {
  need "$WARDEN" "$WARDEN not found; build it first: cargo build --release -p warden-cli"
}

w() { "$WARDEN" --config "$CONFIG" "$@"; }

# ensure_user NAME ROLE PASSWORD: added only when missing (the store lives in the data dir).
ensure_user() {
  if w user list | awk 'NR > 1 { print $1 }' | grep -qxF "$1"; then
    echo "user $1 exists (role $2; demo password $3 unless you changed it)"
  else
    printf '%s\n' "$3" | w user add "$1" --role "$2" --password-stdin >/dev/null
    echo "added user $1 (role $2) with the demo password: $3"
  fi
}

ensure_demo_users() {
  ensure_user alice viewer alice-demo-pw
  ensure_user admin admin admin-demo-pw
}

stop_all() {
  trap - INT TERM EXIT
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  echo "stopped."
}
trap stop_all INT TERM EXIT

# start NAME LOGFILE COMMAND...: runs COMMAND in the background, its stderr to LOGFILE
# ("-" keeps it on the terminal).
start() {
  local name="$1" log="$2"
  shift 2
  if [[ "$log" == "-" ]]; then "$@" & else "$@" 2>"$log" & fi
  NAMES+=("$name") PIDS+=($!) LOGFILES+=("$log")
}

# wait_for URL: until URL answers 2xx; fails as soon as one of the started processes exits.
wait_for() {
  for _ in $(seq 50); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    for i in "${!PIDS[@]}"; do
      if ! kill -0 "${PIDS[$i]}" 2>/dev/null; then
        local see=""
        [[ "${LOGFILES[$i]}" != "-" ]] && see="; see ${LOGFILES[$i]}"
        echo "run.sh: ${NAMES[$i]} exited$see" >&2
        exit 1
      fi
    done
    sleep 0.2
  done
  echo "run.sh: $1 did not answer" >&2
  exit 1
}

# Until Ctrl-C, or until one of the started processes exits.
wait_any() {
  wait -n "${PIDS[@]}" || true
}
