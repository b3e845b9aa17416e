#!/usr/bin/env bash
# The local stack without Docker: scripts/services.sh install|start|stop|status [service...]
# Services: kafka, redis, prometheus (all by default); each is scripts/services/<name>.sh.
# Every action runs for every named service; the exit status is 1 if any of them failed.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/services" || exit 1

ALL=(kafka redis prometheus)
action=${1:-}
case "$action" in
  install | start | stop | status) shift ;;
  *) echo "usage: $0 install|start|stop|status [${ALL[*]}]..." >&2; exit 2 ;;
esac
services=("$@")
[ ${#services[@]} -gt 0 ] || services=("${ALL[@]}")

rc=0
for service in "${services[@]}"; do
  if [ ! -f "$service.sh" ]; then
    echo "unknown service: $service (known: ${ALL[*]})" >&2; rc=1; continue
  fi
  bash "$service.sh" "$action" || rc=1
done
exit "$rc"
