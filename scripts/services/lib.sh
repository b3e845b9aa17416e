# shellcheck shell=bash
# Shared by scripts/services/<service>.sh: paths, pid files, waiting, apt installs.
# A service script sets SERVICE and PORT, defines do_install, do_start (launch only) and
# answering (exit 0 when the service really serves), then calls `main "$@"`.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RUN_DIR="$ROOT/.run/$SERVICE"
PID_FILE="$RUN_DIR/$SERVICE.pid"
LOG_FILE="$RUN_DIR/$SERVICE.log"   # the process's stdout/stderr
START_TIMEOUT=${REDLINE_START_TIMEOUT:-60}

say() { echo "$SERVICE: $*"; }
die() { echo "$SERVICE: $*" >&2; exit 1; }

pid() { cat "$PID_FILE" 2>/dev/null || true; }

# Process $1 exists and is not a zombie (a detached child may wait a while to be reaped).
alive() {
  local state
  state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
  [ -n "$state" ] && [ "$state" != Z ]
}

# Our own process is alive (a pid file left by a dead one does not count).
running() {
  local p; p=$(pid)
  [ -n "$p" ] && alive "$p"
}

# Something accepts TCP connections on 127.0.0.1:$1 (bash's /dev/tcp, no extra tools).
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Runs the remaining arguments until they succeed, for at most START_TIMEOUT seconds. A start
# that fails leaves no process behind.
wait_until() {
  local deadline=$((SECONDS + START_TIMEOUT))
  until "$@" >/dev/null 2>&1; do
    if ! running; then
      show_logs; die "exited during start-up (log: $LOG_FILE)"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      show_logs; do_stop >/dev/null; die "not ready after ${START_TIMEOUT}s, stopped (log: $LOG_FILE)"
    fi
    sleep 0.5
  done
}

# The end of the service's logs, without Java stack frames (the messages say more).
show_logs() {
  local f
  for f in "$LOG_FILE" "${EXTRA_LOG:-}"; do
    if [ -n "$f" ] && [ -s "$f" ]; then
      echo "--- last lines of $f" >&2
      grep -v -E '^\s+(at |\.\.\. [0-9]+ more)' "$f" | tail -n 20 | cut -c1-400 >&2
    fi
  done
}

# Starts "$@" detached from this shell (own session, no terminal, output to LOG_FILE) and
# records its pid; the caller waits for readiness.
launch() {
  mkdir -p "$RUN_DIR"
  setsid "$@" </dev/null >>"$LOG_FILE" 2>&1 &
  echo $! >"$PID_FILE"
}

# apt-get install for a missing tool. Package maintainer scripts must not start system
# services (they would block, fail without an init system, or take our ports), so a
# policy-rc.d that forbids it is put in place for the duration unless one already exists.
apt_install() {
  [ "$(id -u)" -eq 0 ] || die "needs root to apt-get install $*"
  local policy=/usr/sbin/policy-rc.d ours=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && ours=1
  fi
  say "installing $* with apt-get"
  local rc=0
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq --no-install-recommends "$@"; } >"/tmp/redline-apt-$SERVICE.log" 2>&1 || rc=$?
  if [ -n "$ours" ]; then rm -f "$policy"; fi
  if [ "$rc" -ne 0 ]; then
    tail -n 20 "/tmp/redline-apt-$SERVICE.log" >&2
    die "apt-get install $* failed"
  fi
}

need() { command -v "$1" >/dev/null || die "$1 not found: run scripts/services.sh install"; }

do_status() {
  if ! running; then
    say "not running"; return 1
  elif ! answering; then
    say "pid $(pid) is up but not answering on 127.0.0.1:$PORT"; return 1
  fi
  say "running (pid $(pid), 127.0.0.1:$PORT)"
}

do_start_checked() {
  if running; then
    wait_until answering   # may still be starting from an earlier call
    return 0
  fi
  rm -f "$PID_FILE"
  port_open "$PORT" && die "127.0.0.1:$PORT is taken by another process (set REDLINE_${SERVICE^^}_PORT)"
  do_start
  wait_until answering
  say "started (pid $(pid), 127.0.0.1:$PORT)"
}

do_stop() {
  running || { rm -f "$PID_FILE"; return 0; }
  local p; p=$(pid)
  kill -TERM "$p"
  # Kafka's controlled shutdown takes a few seconds; give up on it after 30 s.
  for _ in $(seq 60); do alive "$p" || break; sleep 0.5; done
  if alive "$p"; then say "did not stop in 30 s, killing"; kill -KILL "$p"; fi
  rm -f "$PID_FILE"
  say "stopped"
}

main() {
  case "${1:-}" in
    install) do_install ;;
    start) do_start_checked ;;
    stop) do_stop ;;
    status) do_status ;;
    # answering on the port, whoever started it (another checkout, a hand-started server)
    answering) answering ;;
    *) echo "usage: $0 install|start|stop|status|answering" >&2; exit 2 ;;
  esac
}
