#!/usr/bin/env bash
# The local stack without Docker: scripts/services.sh install|start|stop|status [service...]
# Services: kafka, redis, prometheus (all by default); each is scripts/services/<name>.sh.
# `install` also installs chromium (the wall's browser test): a tool, not a service, so it is
# not in the default list of start|stop|status (named, those are no-ops that succeed).
# Every action runs for every named service; the exit status is 1 if any of them failed.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/services" || exit 1

ALL=(kafka redis prometheus)
TOOLS=(chromium) # installed with the services, never started
action=${1:-}
case "$action" in
  install | start | stop | status) shift ;;
  *) echo "usage: $0 install|start|stop|status [${ALL[*]} ${TOOLS[*]}]..." >&2; exit 2 ;;
esac
services=("$@")
if [ ${#services[@]} -eq 0 ]; then
  services=("${ALL[@]}")
  [ "$action" = install ] && services+=("${TOOLS[@]}")
fi

rc=0
for service in "${services[@]}"; do
  if [ ! -f "$service.sh" ]; then
    echo "unknown service: $service (known: ${ALL[*]} ${TOOLS[*]})" >&2; rc=1; continue
  fi
  bash "$service.sh" "$action" || rc=1
done
exit "$rc"
