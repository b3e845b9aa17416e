#!/usr/bin/env bash
# Local Kafka 4.0 (KRaft, one node acting as broker and controller), run straight from the jars
# that Maven resolves from deploy/kafka/pom.xml: scripts/services/kafka.sh install|start|stop|status
set -euo pipefail
SERVICE=kafka
PORT=${REDLINE_KAFKA_PORT:-9092}
CONTROLLER_PORT=${REDLINE_KAFKA_CONTROLLER_PORT:-9093}
# shellcheck source=scripts/services/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LIBS="$RUN_DIR/libs"
DATA="$RUN_DIR/data"
PROPS="$RUN_DIR/server.properties"
EXTRA_LOG="$RUN_DIR/server.log"   # log4j2 output, see deploy/kafka/log4j2.yaml

do_install() {
  [ -f "$LIBS/.complete" ] && return 0
  command -v java >/dev/null || die "java (17+) not found"
  command -v mvn >/dev/null || die "mvn not found"
  say "resolving broker jars with Maven into $LIBS"
  rm -rf "$LIBS"
  mkdir -p "$RUN_DIR"
  mvn -B -q -f "$ROOT/deploy/kafka/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$LIBS" >"$RUN_DIR/maven.log" 2>&1 \
    || { tail -n 30 "$RUN_DIR/maven.log" >&2; die "Maven could not resolve the Kafka jars"; }
  # The marker makes an interrupted download count as not installed.
  touch "$LIBS/.complete"
}

JAVA=(java -Xms256m -Xmx512m -XX:+UseG1GC -Djava.awt.headless=true
  -Dlog4j2.configurationFile="$ROOT/deploy/kafka/log4j2.yaml" -Dkafka.logs.dir="$RUN_DIR"
  -cp "$LIBS/*")

# Written on every start so that port changes apply. A static voter list (rather than
# `format --standalone`, which records the controller's address in the metadata log) keeps
# the formatted storage valid when REDLINE_KAFKA_CONTROLLER_PORT changes.
write_properties() {
  cat >"$PROPS" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$DATA
num.partitions=8
auto.create.topics.enable=true
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
# A restarted node's broker cannot register until the controller drops the previous
# incarnation's session (default 9 s); shorter sessions make restarts quicker.
broker.heartbeat.interval.ms=1000
broker.session.timeout.ms=4000
PROPS
}

format_storage() {
  [ -f "$DATA/meta.properties" ] && return 0
  local cluster_id
  cluster_id=$("${JAVA[@]}" kafka.tools.StorageTool random-uuid 2>>"$LOG_FILE")
  "${JAVA[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$PROPS" >>"$LOG_FILE" 2>&1 \
    || { show_logs; die "formatting $DATA failed"; }
}

do_start() {
  [ -f "$LIBS/.complete" ] || die "broker jars missing: run scripts/services.sh install"
  mkdir -p "$RUN_DIR"
  write_properties
  format_storage
  launch "${JAVA[@]}" kafka.Kafka "$PROPS"
}

# The port opens before the broker can serve; a Metadata answer that lists the broker
# means it is registered with the controller and unfenced.
answering() {
  port_open "$PORT" && python3 "$ROOT/scripts/services/kafka_ready.py" 127.0.0.1 "$PORT"
}

main "$@"
