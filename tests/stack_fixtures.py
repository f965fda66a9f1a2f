"""Session fixtures for the real PostgreSQL and Kafka (started by stack/, stopped at the end).

Each test gets its own database (and topics with a unique prefix), so tests never see each
other's rows or messages.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path

import pytest

from stack import KafkaBroker, PostgresServer
from stack.process import free_port


@pytest.fixture(scope="session")
def stack_root():
    # under /tmp, world-searchable: PostgreSQL runs as its own user when the tests run as root
    root = Path(tempfile.mkdtemp(prefix="recsys-test-stack-"))
    root.chmod(0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server(stack_root) -> PostgresServer:
    server = PostgresServer(stack_root / "postgres", free_port()).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def kafka_broker(stack_root) -> KafkaBroker:
    broker = KafkaBroker(stack_root / "kafka", free_port(), free_port()).start()
    yield broker
    broker.stop()


def new_database(server: PostgresServer) -> str:
    """A fresh, migrated database on ``server``; returns its URL."""
    import psycopg

    from store.db import upgrade

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = f"postgresql://postgres@127.0.0.1:{server.port}/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:{server.port}/{name}"
    upgrade(url)
    return url


def new_topics(broker: KafkaBroker, partitions: int = 3):
    """Topics with a unique prefix, created on ``broker``."""
    from events.bus import Topics
    from events.kafka_bus import ensure_topics

    prefix = f"t{uuid.uuid4().hex[:8]}"
    names = Topics(f"{prefix}.events", f"{prefix}.dlq", f"{prefix}.online")
    ensure_topics(broker.bootstrap, names, partitions=partitions)
    return names


@pytest.fixture
def pg_url(postgres_server) -> str:
    return new_database(postgres_server)


@pytest.fixture
def topics(kafka_broker):
    return new_topics(kafka_broker)


@pytest.fixture(scope="session")
def kube_apiserver(stack_root):
    """A real kube-apiserver + etcd (built from their Go modules on first use) with the
    RecommenderModel CRD, kopf's peering CRDs and the operator's RBAC applied."""
    import subprocess

    from stack.kube import KubeAPIServer

    server = KubeAPIServer(stack_root / "kube", free_port(), free_port(), free_port()).start()
    repo = Path(__file__).resolve().parents[1]
    from stack.prometheus import prometheus_operator_crds

    # the server-side apply of large CRDs avoids the client-side last-applied annotation size limit
    for manifest in ("operator/crds", "operator/rbac.yaml", *prometheus_operator_crds()):
        subprocess.run(["kubectl", "--kubeconfig", str(server.kubeconfig), "apply", "--server-side", "-f",
                        str(repo / manifest)], check=True, capture_output=True)
    subprocess.run(["kubectl", "--kubeconfig", str(server.kubeconfig), "wait", "--for=condition=Established",
                    "crd/recommendermodels.recsys.dev", "crd/kopfpeerings.kopf.dev", "--timeout=30s"],
                   check=True, capture_output=True)
    subprocess.run(["kubectl", "--kubeconfig", str(server.kubeconfig), "apply", "-f",
                    str(repo / "operator" / "peering.yaml")], check=True, capture_output=True)
    yield server
    server.stop()
