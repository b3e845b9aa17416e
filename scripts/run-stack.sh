#!/usr/bin/env bash
# The whole local stack in one command (`make run`): Kafka and Redis, REDLINE_WORKERS stream
# workers (default 1), the API (`redline api`, with the wall), a demo load from `redline simulate`
# unless REDLINE_DEMO=0, and `redline watch` in the foreground. Ctrl-C (or SIGTERM) stops what
# this script started, and only that: services that were already running stay up.
#
# The pipeline's settings are the REDLINE_* variables of monitor/settings.py, passed through to
# every process. Variables of this script only:
#   REDLINE_WORKERS     number of workers, 1 to REDLINE_PARTITIONS (default 1)
#   REDLINE_DEMO        0: no simulator (events come from real window systems) (default 1)
#   REDLINE_DEMO_ARGS   options of `redline simulate` (default: see DEMO_ARGS below)
#   REDLINE_DEMO_VIA    api (default): the demo posts to the API; kafka: it produces to Kafka
#   REDLINE_WATCH_INTERVAL   seconds between two views of `redline watch` (default 5)
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
ROOT=$PWD
RUN=$ROOT/.run
REDLINE=$ROOT/.venv/bin/redline
# The workers' timers run on the real clock, so the demo's simulated time stays in the past:
# it starts a week ago and runs about 17 minutes of simulated time a second, so it nears the
# present after some 10 minutes and stops there. Deadlines keep passing as it goes, and the
# timers turn those cases red. A third of the cases finish late, so the ranking's breached
# column moves.
DEMO_ARGS="--rate 50 --time-scale 1000 --duration 600 --late-share 0.3 \
--start $(date -u -d '7 days ago' +%Y-%m-%dT%H:%M:%SZ)"

WORKERS=${REDLINE_WORKERS:-1}
DEMO=${REDLINE_DEMO:-1}
PARTITIONS=${REDLINE_PARTITIONS:-8}
export REDLINE_KAFKA_BOOTSTRAP=${REDLINE_KAFKA_BOOTSTRAP:-127.0.0.1:${REDLINE_KAFKA_PORT:-9092}}
export REDLINE_REDIS_URL=${REDLINE_REDIS_URL:-redis://127.0.0.1:${REDLINE_REDIS_PORT:-6379}/0}

say() { echo "run-stack: $*"; }
die() { echo "run-stack: $*" >&2; exit 1; }

[[ $WORKERS =~ ^[1-9][0-9]*$ ]] || die "REDLINE_WORKERS must be a whole number from 1, not '$WORKERS'"
[[ $PARTITIONS =~ ^[1-9][0-9]*$ ]] || die "REDLINE_PARTITIONS must be a whole number from 1"
if [ "$WORKERS" -gt "$PARTITIONS" ]; then
  die "REDLINE_WORKERS=$WORKERS is more than the $PARTITIONS partitions: the extra workers would sit idle"
fi
[ -x "$REDLINE" ] || die "$REDLINE not found: run scripts/bootstrap.sh"

STARTED=()      # services this script started, stopped again at the end
PIDS=()         # processes this script started, in start order
NAMES=()        # their names (worker-1, simulate, ...)
LOGS=()         # their logs
WATCHER=""      # the background check that reports a process that died
WATCH=""        # redline watch

# Process $1 exists and is not a zombie.
alive() {
  local state
  state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
  [ -n "$state" ] && [ "$state" != Z ]
}

# Starts "$@" in its own session, so that a Ctrl-C in the terminal reaches this script only,
# which then stops everything in order; output appended to the log $2.
launch() {
  local name=$1 log=$2
  shift 2
  setsid "$@" </dev/null >>"$log" 2>&1 &
  PIDS+=($!)
  NAMES+=("$name")
  LOGS+=("$log")
}

# SIGTERM to the processes at indexes "$@", then waits up to 60 s for each; SIGKILL after that.
stop_processes() {
  local i pid
  for i in "$@"; do
    pid=${PIDS[$i]}
    if alive "$pid"; then
      kill -TERM "$pid" 2>/dev/null
    else
      say "${NAMES[$i]} (pid $pid) had already exited; see ${LOGS[$i]#"$ROOT"/}"
    fi
  done
  for i in "$@"; do
    pid=${PIDS[$i]}
    for _ in $(seq 120); do alive "$pid" || break; sleep 0.5; done
    if alive "$pid"; then
      say "${NAMES[$i]} (pid $pid) did not stop in 60 s, killing it"
      kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
    say "${NAMES[$i]} stopped"
  done
}

indexes_named() {  # indexes of the processes whose name matches the pattern $1
  local i
  for i in "${!NAMES[@]}"; do
    # shellcheck disable=SC2053  # a glob on purpose
    [[ ${NAMES[$i]} == $1 ]] && echo "$i"
  done
}

CLEANED=""
cleanup() {
  [ -n "$CLEANED" ] && return
  CLEANED=1
  trap 'say "still stopping, please wait"' INT TERM
  echo
  local background
  for background in "$WATCH" "$WATCHER"; do
    [ -n "$background" ] && kill -TERM "$background" 2>/dev/null && wait "$background" 2>/dev/null
  done
  local sim
  mapfile -t sim < <(indexes_named simulate)
  if [ ${#sim[@]} -gt 0 ]; then
    stop_processes "${sim[@]}"
    # its last line is the summary of what it sent
    say "simulate sent: $(tail -n 1 "${LOGS[${sim[0]}]}" 2>/dev/null | cut -c1-300)"
  fi
  local rest
  mapfile -t rest < <(indexes_named api)
  [ ${#rest[@]} -gt 0 ] && stop_processes "${rest[@]}"
  mapfile -t rest < <(indexes_named 'worker-*')
  [ ${#rest[@]} -gt 0 ] && stop_processes "${rest[@]}"
  local i
  for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do
    scripts/services.sh stop "${STARTED[$i]}"
  done
  say "everything this script started is stopped"
}
trap 'cleanup; exit 0' INT TERM

# Kafka and Redis: started unless they already answer; only those started here are stopped.
start_service() {
  local name=$1
  if scripts/services/"$name".sh status >/dev/null 2>&1; then
    say "$name: already running; it stays up at the end ($(scripts/services/"$name".sh status))"
  elif scripts/services/"$name".sh answering >/dev/null 2>&1; then
    say "$name: answering (started elsewhere); it stays up at the end"
  else
    scripts/services.sh start "$name" || { cleanup; die "$name did not start"; }
    STARTED+=("$name")
  fi
}

# Pipeline checks in Python, with the workers' own code and settings (REDLINE_* variables):
#   pipeline config    check the settings and the operators' files, as `redline worker` does
#   pipeline topics    create the missing topics and check the existing ones, as `redline
#                      worker` does at start: refuses a partition count other than
#                      REDLINE_PARTITIONS; then the running configuration: the newest version
#                      on redline-config, or the files on disk published as the first one
#                      (here, so that workers starting together do not each publish it)
#   pipeline members   "<state> <members>" of the workers' consumer group (REDLINE_APP_ID)
pipeline() {
  .venv/bin/python - "$1" <<'PY'
import asyncio
import sys

from aiokafka.admin import AIOKafkaAdminClient

from monitor import configlink
from monitor.config import ConfigError
from monitor.configfile import FileError
from monitor.settings import Settings, SettingsError
from streams.topics import TopicLayoutError, ensure_topics


async def members(settings: Settings) -> str:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        (response,) = await admin.describe_consumer_groups([settings.app_id])
    finally:
        await admin.close()
    group = response.groups[0]
    return f"{group[2]} {len(group[5])}"  # state, members


try:
    settings = Settings.from_env()
except SettingsError as exc:
    sys.exit(f"run-stack: {exc}")
try:
    if sys.argv[1] == "config":
        settings.config_files().load()
    elif sys.argv[1] == "topics":
        created = asyncio.run(ensure_topics(settings))
        if created:
            print(f"run-stack: created topics {', '.join(created)}")
        running = asyncio.run(configlink.running(settings))
        print(
            f"run-stack: configuration version {running.version} ({running.how}, "
            f"applied by {running.applied_by}); change it with `redline config apply FILES…`"
        )
    else:
        print(asyncio.run(members(settings)))
except (ConfigError, FileError, TopicLayoutError) as exc:
    sys.exit(f"run-stack: {exc}")
except Exception as exc:  # Kafka unreachable and the like
    sys.exit(f"run-stack: Kafka at {settings.kafka_bootstrap}: {exc!r}")
PY
}

pipeline config || exit 1
mkdir -p "$RUN"
start_service kafka
start_service redis
pipeline topics || { cleanup; exit 1; }

# No rebuild of the read model here: Redis keeps its data in its append-only file, and a Redis
# that lost it anyway is rebuilt from Kafka by the workers themselves (streams/rebuild.py).

for ((n = 1; n <= WORKERS; n++)); do
  mkdir -p "$RUN/worker-$n"
  launch "worker-$n" "$RUN/worker-$n.log" env REDLINE_DATA_DIR="$RUN/worker-$n" "$REDLINE" worker
done

# The workers are ready when they all belong to the consumer group and it is stable.
say "waiting for $WORKERS worker(s) to join the consumer group ${REDLINE_APP_ID:-redline}"
deadline=$((SECONDS + 120))
until read -r state count < <(pipeline members 2>/dev/null) \
  && [ "$state" = Stable ] && [ "$count" -ge "$WORKERS" ]; do
  for i in "${!PIDS[@]}"; do
    if ! alive "${PIDS[$i]}"; then
      echo "--- last lines of ${LOGS[$i]#"$ROOT"/}" >&2
      grep -v '^\s*$' "${LOGS[$i]}" | tail -n 12 >&2
      say "${NAMES[$i]} exited during start-up (log: ${LOGS[$i]#"$ROOT"/})" >&2
      if grep -q ConsistencyError "${LOGS[$i]}"; then
        # faust keeps changelog offsets in the local store: they outlive deleted Kafka data
        # or a changed REDLINE_APP_ID
        say "its state in .run/${NAMES[$i]}/ belongs to other Kafka data or another" \
          "REDLINE_APP_ID; delete it (rm -rf .run/worker-*) and start again" >&2
      fi
      cleanup
      exit 1
    fi
  done
  if [ "$SECONDS" -ge "$deadline" ]; then
    say "the workers did not join the consumer group in 120 s (logs: .run/worker-*.log)" >&2
    cleanup
    exit 1
  fi
  sleep 1
done

# The API, with the dev tokens: generated here when unset, so that the demo load can post
# through it and the wall's URL can be printed; they exist for this run only.
new_token() { .venv/bin/python -c 'import secrets; print("rl_dev_" + secrets.token_urlsafe(24))'; }
export REDLINE_INGEST_TOKEN=${REDLINE_INGEST_TOKEN:-$(new_token)}
export REDLINE_SUPERVISOR_TOKEN=${REDLINE_SUPERVISOR_TOKEN:-$(new_token)}
API_URL="http://${REDLINE_API_HOST:-127.0.0.1}:${REDLINE_API_PORT:-8000}"
launch api "$RUN/api.log" "$REDLINE" api
API_NOTE="api: $API_URL, pid ${PIDS[-1]}, log .run/api.log"
deadline=$((SECONDS + 60))
until .venv/bin/python -c "import urllib.request as u; u.urlopen('$API_URL/readyz', timeout=2)" \
  2>/dev/null; do
  if ! alive "${PIDS[-1]}" || [ "$SECONDS" -ge "$deadline" ]; then
    grep -v '^\s*$' "$RUN/api.log" | tail -n 12 >&2
    say "the api did not become ready (log: .run/api.log)" >&2
    cleanup
    exit 1
  fi
  sleep 0.5
done

if [ "$DEMO" != 0 ]; then
  read -r -a demo_args <<<"${REDLINE_DEMO_ARGS:-$DEMO_ARGS}"
  topic=${REDLINE_EVENTS_TOPIC:-approval-events}
  files=()
  [ -n "${REDLINE_CATALOG:-}" ] && files+=(--catalog "$REDLINE_CATALOG")
  [ -n "${REDLINE_CENTRES:-}" ] && files+=(--centres "$REDLINE_CENTRES")
  # through the API (REDLINE_DEMO_VIA=api, the default) or straight to Kafka (kafka)
  via=(--api "$API_URL")
  [ "${REDLINE_DEMO_VIA:-api}" = kafka ] && via=(--bootstrap "$REDLINE_KAFKA_BOOTSTRAP" --topic "$topic")
  launch simulate "$RUN/simulate.log" "$REDLINE" simulate "${via[@]}" "${files[@]}" "${demo_args[@]}"
fi

# Reports a process that dies while the stack runs (the watch alone would just stop moving).
(
  reported=()
  while sleep 5; do
    for i in "${!PIDS[@]}"; do
      if [ -z "${reported[$i]:-}" ] && ! alive "${PIDS[$i]}"; then
        say "${NAMES[$i]} (pid ${PIDS[$i]}) exited; see ${LOGS[$i]#"$ROOT"/}" >&2
        reported[i]=1
      fi
    done
  done
) &
WATCHER=$!

echo
say "kafka: $REDLINE_KAFKA_BOOTSTRAP    redis: $REDLINE_REDIS_URL"
for i in "${!PIDS[@]}"; do
  case ${NAMES[$i]} in
    worker-*) say "${NAMES[$i]}: pid ${PIDS[$i]}, state in .run/${NAMES[$i]}/, log .run/${NAMES[$i]}.log" ;;
    simulate) say "simulate: pid ${PIDS[$i]} (${REDLINE_DEMO_ARGS:-$DEMO_ARGS}), log .run/simulate.log" ;;
  esac
done
say "$API_NOTE"
say "wall: $API_URL/wall?token=$REDLINE_SUPERVISOR_TOKEN"
say "dev tokens (this run only): ingest $REDLINE_INGEST_TOKEN  supervisor $REDLINE_SUPERVISOR_TOKEN"
[ "$DEMO" = 0 ] && say "simulate: off (REDLINE_DEMO=0): send events to ${REDLINE_EVENTS_TOPIC:-approval-events}"
if [ ${#STARTED[@]} -gt 0 ]; then
  say "started here, stopped at the end: ${STARTED[*]}"
fi
say "watching the read model every ${REDLINE_WATCH_INTERVAL:-5} s. Press Ctrl-C to stop it all."
echo

# In the background and waited for: bash runs a trap only once the foreground command ends,
# while `wait` returns at once on a signal, so SIGTERM to this script works as Ctrl-C does.
"$REDLINE" watch --interval "${REDLINE_WATCH_INTERVAL:-5}" &
WATCH=$!
wait "$WATCH"
status=$?
cleanup
exit "$status"
