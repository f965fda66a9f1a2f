#!/bin/sh
# One KRaft node: the broker listens on 9092 for the pod network and advertises KAFKA_ADVERTISED_HOST
# (the Service's name); the controller stays on loopback. The log directory is formatted once with
# KAFKA_CLUSTER_ID. Topics are created by `recsys events topics`, never by a client's typo.
set -eu
: "${KAFKA_ADVERTISED_HOST:?}" "${KAFKA_CLUSTER_ID:?}"
data=${KAFKA_DATA:-/var/lib/kafka}
config=/tmp/server.properties
cat > "$config" <<PROPERTIES
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:9093
listeners=PLAINTEXT://:9092,CONTROLLER://127.0.0.1:9093
advertised.listeners=PLAINTEXT://${KAFKA_ADVERTISED_HOST}:9092
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=${data}
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0
PROPERTIES
classpath="/opt/kafka/libs/*"
if [ ! -f "$data/meta.properties" ]; then
  java -cp "$classpath" kafka.tools.StorageTool format -t "$KAFKA_CLUSTER_ID" -c "$config"
fi
exec java "-Xmx${KAFKA_HEAP:-384m}" "-Xms${KAFKA_HEAP:-384m}" -XX:+UseG1GC \
  -Dlog4j2.configurationFile=/opt/kafka/log4j2.yaml -cp "$classpath" kafka.Kafka "$config"
