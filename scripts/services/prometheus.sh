#!/usr/bin/env bash
# Local Prometheus for development and tests: scripts/services/prometheus.sh install|start|stop|status
set -euo pipefail
SERVICE=prometheus
PORT=${REDLINE_PROMETHEUS_PORT:-9090}
# shellcheck source=scripts/services/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
CONFIG="$ROOT/dashboards/prometheus/prometheus.yml"

do_install() {
  if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null \
    || ! command -v curl >/dev/null; then
    apt_install prometheus curl
  fi
  # Debian's package comes with a system instance on 9090. apt_install keeps maintainer
  # scripts from starting it, but stop one that an earlier install may have left running.
  if [ -x /etc/init.d/prometheus ] && /etc/init.d/prometheus status >/dev/null 2>&1; then
    say "stopping the system prometheus service (it would hold port 9090)"
    /etc/init.d/prometheus stop >/dev/null 2>&1 || true
  fi
}

do_start() {
  need prometheus
  need promtool
  check_config
  launch prometheus --config.file="$CONFIG" --storage.tsdb.path="$RUN_DIR/data" \
    --web.listen-address="127.0.0.1:$PORT"
}

check_config() {
  local out
  out=$(promtool check config "$CONFIG" 2>&1) || { echo "$out" >&2; die "invalid $CONFIG"; }
}

answering() { curl -fsS "http://127.0.0.1:$PORT/-/ready" >/dev/null 2>&1; }

main "$@"
