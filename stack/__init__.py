"""The local stack: real PostgreSQL and Apache Kafka (and later the Kubernetes API server) as plain
processes with their data under one directory, for tests, benchmarks and `make stack-up`.

No Docker: PostgreSQL comes from the Debian package, Kafka from its jars on Maven Central run with
the machine's Java. Downloads are cached under ``~/.cache/recsys`` (outside the repository).
"""

from stack.kafka import KafkaBroker
from stack.postgres import PostgresServer

__all__ = ["KafkaBroker", "PostgresServer"]
