#!/usr/bin/env bash
# Runs the four Troupe apps as separate processes on this machine against one nats-server: the
# multi-process layout the end-to-end tests use (test/support/troupe-stack.ts), for a developer.
#
#   deploy/local/run-apps.sh            # Ctrl-C (SIGINT) or SIGTERM stops every app, then nats-server
#
# 1. If nothing listens at the first address of NATS_URL (default nats://127.0.0.1:4222) and it is a
#    local address, starts `nats-server -c deploy/nats/nats-server.conf` there with JetStream, its store
#    in TROUPE_NATS_STORE_DIR (default .troupe/nats for port 4222, as `npm run demo` uses, else
#    .troupe/nats-<port>). A server that was already there is used and left running.
# 2. Starts each app with `npm run start:<app>` in its own process group, output in
#    .troupe/logs/local/<app>.log (the previous run's log is kept as <app>.log.prev).
# 3. Waits until each app logs "ready" (TROUPE_READY_TIMEOUT_S, default 300 s: the agents train the
#    offline classifier on their first start), then prints where the gateway listens.
# 4. Stays in the foreground. If an app exits on its own, or on SIGINT/SIGTERM, sends SIGTERM to every
#    app's process group (SIGKILL after TROUPE_STOP_TIMEOUT_S, default 20 s), then stops the
#    nats-server it started, and exits.
#
# Run it in the foreground of a terminal, or send SIGTERM: a non-interactive shell starts background
# jobs with SIGINT ignored, and bash cannot trap a signal ignored on entry.
#
# Environment: everything the apps read (NATS_URL, NATS_USER, NATS_PASSWORD, MONGODB_URI,
# TROUPE_HTTP_PORT, TROUPE_GATEWAY_API_KEYS (without keys or TROUPE_JWT_* the gateway answers 401 on every
# route but /health and /docs), TROUPE_MODEL_*, …; README.md "Configuration") is passed through unchanged, plus
#   TROUPE_APPS             apps to start, space-separated (default "orchestrator supervisor agents gateway")
#   TROUPE_NATS_STORE_DIR   JetStream store of a nats-server started here
#   TROUPE_READY_TIMEOUT_S  seconds to wait for all apps to log "ready" (default 300)
#   TROUPE_STOP_TIMEOUT_S   seconds to wait after SIGTERM before SIGKILL (default 20)
#   NATS_SERVER_BIN         nats-server binary (default: nats-server from PATH)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
  exit 0
fi

export NATS_URL="${NATS_URL:-nats://127.0.0.1:4222}"
export NO_COLOR=1
STATE_DIR="$ROOT/.troupe"
LOG_DIR="$STATE_DIR/logs/local"
READY_TIMEOUT_S="${TROUPE_READY_TIMEOUT_S:-300}"
STOP_TIMEOUT_S="${TROUPE_STOP_TIMEOUT_S:-20}"
read -r -a APPS <<<"${TROUPE_APPS:-orchestrator supervisor agents gateway}"

log() { printf '[run-apps %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { log "error: $*" >&2; exit 1; }

for app in "${APPS[@]}"; do
  [[ -f "apps/$app/src/main.ts" ]] || die "unknown app '$app' (TROUPE_APPS)"
done
mkdir -p "$LOG_DIR"

# host and port of the first server in NATS_URL: nats://[user:pass@]host[:port][,…]
first_url="${NATS_URL%%,*}"
hostport="${first_url#*://}"
hostport="${hostport##*@}"
hostport="${hostport%%/*}"
NATS_HOST="${hostport%:*}"
NATS_PORT="${hostport##*:}"
[[ "$hostport" == *:* ]] || NATS_PORT=4222
[[ "$NATS_PORT" =~ ^[0-9]+$ ]] || die "cannot read a port from NATS_URL=$NATS_URL"

listening() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# Process group ids (each app was started as a group leader by setsid: pgid = pid).
declare -A GROUP=()
NATS_PID=""
STOPPING=0

# True while any process of group $1 is alive (zombies do not count).
group_alive() {
  ps -eo pgid=,stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/ { found = 1 } END { exit !found }'
}

stop_all() {
  ((STOPPING)) && return
  STOPPING=1
  trap '' INT TERM
  local app pgid deadline
  for app in "${!GROUP[@]}"; do
    # The whole group: npm, the `sh -c` it runs and node. npm alone would not reach node (sh does not
    # forward signals), and node must see SIGTERM once: its handler is `process.once`.
    if group_alive "${GROUP[$app]}"; then kill -TERM -- "-${GROUP[$app]}" 2>/dev/null || true; fi
  done
  deadline=$((SECONDS + STOP_TIMEOUT_S))
  for app in "${!GROUP[@]}"; do
    pgid="${GROUP[$app]}"
    while group_alive "$pgid" && ((SECONDS < deadline)); do sleep 0.2; done
    if group_alive "$pgid"; then
      log "$app did not stop within ${STOP_TIMEOUT_S}s: SIGKILL"
      kill -KILL -- "-$pgid" 2>/dev/null || true
    else
      log "$app stopped"
    fi
  done
  if [[ -n "$NATS_PID" ]] && kill -0 "$NATS_PID" 2>/dev/null; then
    kill -TERM "$NATS_PID" 2>/dev/null || true
    deadline=$((SECONDS + 10))
    while kill -0 "$NATS_PID" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
    if kill -0 "$NATS_PID" 2>/dev/null; then kill -KILL "$NATS_PID" 2>/dev/null || true; fi
    wait "$NATS_PID" 2>/dev/null || true
    log "nats-server stopped"
  fi
  wait 2>/dev/null || true
}
trap 'log "SIGINT: stopping"; stop_all; exit 130' INT
trap 'log "SIGTERM: stopping"; stop_all; exit 143' TERM
trap 'stop_all' EXIT

# 1. NATS
if listening "$NATS_HOST" "$NATS_PORT"; then
  log "using the NATS server at $NATS_URL"
else
  case "$NATS_HOST" in
    127.*|localhost|0.0.0.0|::1) ;;
    *) die "nothing listens at $NATS_HOST:$NATS_PORT and it is not a local address: start NATS there first" ;;
  esac
  bin="${NATS_SERVER_BIN:-$(command -v nats-server || true)}"
  [[ -n "$bin" ]] || die "nothing listens at $NATS_URL and nats-server is not on PATH (Debian: apt-get install -y nats-server)"
  default_store="$STATE_DIR/nats"
  [[ "$NATS_PORT" == 4222 ]] || default_store="$STATE_DIR/nats-$NATS_PORT"
  store="${TROUPE_NATS_STORE_DIR:-$default_store}"
  mkdir -p "$store"
  [[ -f "$LOG_DIR/nats-server.log" ]] && mv -f "$LOG_DIR/nats-server.log" "$LOG_DIR/nats-server.log.prev"
  # setsid: a terminal's Ctrl-C reaches this script only, so the server outlives the apps' shutdown.
  setsid "$bin" -c deploy/nats/nats-server.conf -a "$NATS_HOST" -p "$NATS_PORT" -sd "$store" >"$LOG_DIR/nats-server.log" 2>&1 </dev/null &
  NATS_PID=$!
  deadline=$((SECONDS + 10))
  until listening "$NATS_HOST" "$NATS_PORT"; do
    kill -0 "$NATS_PID" 2>/dev/null || die "nats-server exited; see $LOG_DIR/nats-server.log"
    ((SECONDS < deadline)) || die "nats-server did not listen within 10 s; see $LOG_DIR/nats-server.log"
    sleep 0.1
  done
  log "started nats-server (pid $NATS_PID) at $NATS_HOST:$NATS_PORT, JetStream store $store"
fi

# 2. Apps
for app in "${APPS[@]}"; do
  logfile="$LOG_DIR/$app.log"
  [[ -f "$logfile" ]] && mv -f "$logfile" "$logfile.prev"
  # setsid: a process group of its own (pgid = the npm pid), so one signal reaches npm, sh and node.
  setsid npm run --silent "start:$app" >"$logfile" 2>&1 </dev/null &
  GROUP[$app]=$!
  log "started $app (process group ${GROUP[$app]}), log $logfile"
done

# 3. Ready
pending=("${APPS[@]}")
deadline=$((SECONDS + READY_TIMEOUT_S))
while ((${#pending[@]} > 0)); do
  still=()
  for app in "${pending[@]}"; do
    if grep -qw ready "$LOG_DIR/$app.log" 2>/dev/null; then
      log "$app ready: $(grep -w ready "$LOG_DIR/$app.log" | tail -1 | sed 's/^.*\] //')"
    elif ! group_alive "${GROUP[$app]}"; then
      tail -n 20 "$LOG_DIR/$app.log" >&2 || true
      die "$app exited before it was ready; see $LOG_DIR/$app.log"
    else
      still+=("$app")
    fi
  done
  pending=("${still[@]+"${still[@]}"}")
  ((${#pending[@]} == 0)) && break
  ((SECONDS < deadline)) || die "not ready within ${READY_TIMEOUT_S}s: ${pending[*]}; see $LOG_DIR/"
  sleep 0.5 & wait $!
done

if [[ " ${APPS[*]} " == *" gateway "* ]]; then
  log "gateway: http://${TROUPE_HTTP_HOST:-127.0.0.1}:${TROUPE_HTTP_PORT:-3000}/health"
fi
log "all ready; Ctrl-C stops them"

# 4. Watch. `sleep & wait` rather than a plain sleep so that a signal is handled at once.
while true; do
  for app in "${!GROUP[@]}"; do
    if ! group_alive "${GROUP[$app]}"; then
      tail -n 20 "$LOG_DIR/$app.log" >&2 || true
      die "$app exited; stopping the others (see $LOG_DIR/$app.log)"
    fi
  done
  sleep 1 & wait $!
done
