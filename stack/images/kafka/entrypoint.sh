#!/bin/bash
# Starts Kafka the way the apache/kafka image does, so helm/recsys-deps configures this stand-in and
# the official image alike: CLUSTER_ID formats the log directories once, and every other KAFKA_*
# variable is a broker property (KAFKA_LOG_DIRS -> log.dirs, `__` -> `_`, `___` -> `-`), written to
# /opt/kafka/config/server.properties. KAFKA_HEAP_OPTS and the other *_OPTS go to the JVM.
set -euo pipefail
: "${CLUSTER_ID:?CLUSTER_ID environment variable not set}"
: "${KAFKA_PROCESS_ROLES:?KAFKA_PROCESS_ROLES environment variable not set (this image runs KRaft only)}"
config=${SERVER_CONFIG_DIR:-/opt/kafka/config}/server.properties  # (a test writes elsewhere)
: > "$config"
for name in $(compgen -e | grep '^KAFKA_' | sort); do
  case "$name" in
    KAFKA_VERSION|KAFKA_HEAP_OPTS|KAFKA_OPTS|KAFKA_LOG4J_OPTS|KAFKA_JMX_OPTS|KAFKA_JVM_PERFORMANCE_OPTS \
    |KAFKA_GC_LOG_OPTS|KAFKA_LOG4J_ROOT_LOGLEVEL|KAFKA_LOG4J_LOGGERS|KAFKA_TOOLS_LOG4J_LOGLEVEL) continue ;;
  esac
  property=${name#KAFKA_}
  property=${property,,}
  property=${property//___/-}
  property=${property//__/%}
  property=${property//_/.}
  printf '%s=%s\n' "${property//%/_}" "${!name}" >> "$config"
done
classpath="/opt/kafka/libs/*"
java -cp "$classpath" kafka.tools.StorageTool format --ignore-formatted -t "$CLUSTER_ID" -c "$config"
# shellcheck disable=SC2086  # the *_OPTS are word lists
exec java ${KAFKA_HEAP_OPTS:--Xmx1G -Xms1G} -XX:+UseG1GC ${KAFKA_OPTS:-} \
  -Dlog4j2.configurationFile=/opt/kafka/log4j2.yaml -cp "$classpath" kafka.Kafka "$config"
