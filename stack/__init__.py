"""The local stack: real PostgreSQL Apache Kafka and the Kubernetes API server (with etcd) as plain
processes with their data under one directory, for tests, benchmarks and `make stack-up`.

No Docker: PostgreSQL comes from the Debian package, Kafka from its jars on Maven Central run with
the machine's Java. Downloads are cached under ``~/.cache/recsys`` (outside the repository).
"""

from stack.kafka import KafkaBroker
from stack.kube import KubeAPIServer
from stack.postgres import PostgresServer

__all__ = ["KafkaBroker", "KubeAPIServer", "PostgresServer"]
