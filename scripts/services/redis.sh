#!/usr/bin/env bash
# Local Redis for development and tests: scripts/services/redis.sh install|start|stop|status
set -euo pipefail
SERVICE=redis
PORT=${REDLINE_REDIS_PORT:-6379}
# shellcheck source=scripts/services/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

do_install() {
  command -v redis-server >/dev/null && return 0
  apt_install redis-server
}

do_start() {
  need redis-server
  # In the foreground (no --daemonize) so that launch() owns the pid. The append-only file as
  # in compose (fsync every second), so that a restart keeps tokens, idempotency records and
  # the read model; no RDB snapshots besides. Protected mode is moot when bound to loopback.
  launch redis-server --port "$PORT" --bind 127.0.0.1 --protected-mode no \
    --dir "$RUN_DIR" --save "" --appendonly yes --appendfsync everysec --daemonize no
}

answering() { [ "$(redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null)" = PONG ]; }

main "$@"
