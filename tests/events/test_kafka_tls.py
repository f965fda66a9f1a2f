"""TLS to Kafka: every client of the system (topics, publisher, reader, the stream processor and the
command line) on a real broker's TLS listener and on one that requires client certificates, and
what is refused: a plain-text client, a client trusting another CA, a client without a certificate
where one is required."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

import pytest
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient
from stack_fixtures import new_database
from stream_helpers import StreamProcess, stored, wait_for_rows
from tls_helpers import make_tls_dir

from core.errors import SettingsError
from events.bus import Topics
from events.kafka_bus import KafkaPublisher, KafkaTopicReader, ensure_topics
from events.kafka_tls import KafkaTls
from stack import KafkaBroker
from stack.process import free_port


@pytest.fixture(scope="module")
def tls_broker(tmp_path_factory):
    root = tmp_path_factory.mktemp("kafka-tls")
    certificates = root / "certificates"
    broker = KafkaBroker(root / "broker", free_port(), free_port(), tls_dir=make_tls_dir(certificates, "broker"),
                         tls_port=free_port(), mtls_port=free_port()).start(timeout_s=180)
    try:
        yield broker, certificates
    finally:
        broker.stop()


def _topics() -> Topics:
    prefix = f"tls{uuid.uuid4().hex[:8]}"
    return Topics(f"{prefix}.events", f"{prefix}.dlq", f"{prefix}.online")


def _refused(bootstrap: str, config: dict[str, str]) -> str:
    """What a client with ``config`` is told when it asks ``bootstrap`` for its topics and fails: the
    request's error and the connection errors librdkafka reports on the way (not its log lines)."""
    errors: list[str] = []
    client = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0,
                          "error_cb": lambda error: errors.append(error.str()), **config})
    with pytest.raises(KafkaException) as refused:
        client.list_topics(timeout=8)
    client.poll(0)  # deliver the error callbacks
    return " ".join([str(refused.value), *errors])


@pytest.mark.integration
def test_clients_verify_the_broker_and_plain_or_unverified_clients_are_refused(tls_broker):
    broker, certificates = tls_broker
    tls = KafkaTls(ca=certificates / "broker" / "ca.crt").client_config()
    topics = _topics()
    assert ensure_topics(broker.tls_bootstrap, topics, partitions=1, **tls) == {
        topics.events: "created", topics.dead_letter: "created", topics.online_metrics: "created"}
    since_ms = int(time.time() * 1000) - 1000
    publisher = KafkaPublisher(broker.tls_bootstrap, **tls)
    for n in range(20):
        publisher.publish(topics.events, f"u{n}".encode(), f"event {n}".encode())
    publisher.flush(30)
    assert publisher.delivered == 20 and not publisher.failed
    publisher.close()
    reader = KafkaTopicReader(broker.tls_bootstrap, topics.events, since_ms, **tls)
    values: list[bytes] = []
    deadline = time.monotonic() + 60
    while len(values) < 20 and time.monotonic() < deadline:
        values += [record.value for record in reader.poll(100, 1.0)]
    reader.close()
    assert sorted(values) == sorted(f"event {n}".encode() for n in range(20))

    _refused(broker.tls_bootstrap, {})  # plain text against the TLS port: no handshake, no metadata
    stranger = make_tls_dir(certificates, "stranger", ca_name="another-ca")
    assert "certificate verify failed" in _refused(broker.tls_bootstrap, KafkaTls(ca=stranger / "ca.crt")
                                                   .client_config()).lower()


@pytest.mark.integration
def test_a_broker_requiring_client_certificates_takes_only_clients_that_present_one(tls_broker):
    broker, certificates = tls_broker
    client = make_tls_dir(certificates, "client")
    with_identity = KafkaTls(ca=client / "ca.crt", cert=client / "tls.crt", key=client / "tls.key")
    metadata = AdminClient({"bootstrap.servers": broker.mtls_bootstrap, **with_identity.client_config()}) \
        .list_topics(timeout=30)
    assert metadata.brokers
    _refused(broker.mtls_bootstrap, KafkaTls(ca=client / "ca.crt").client_config())


@pytest.mark.integration
def test_the_stream_processor_and_the_command_line_speak_tls(tls_broker, postgres_server, tmp_path):
    broker, certificates = tls_broker
    client = make_tls_dir(certificates, "cli")
    topics, pg_url = _topics(), new_database(postgres_server)
    topic_env = {"RECSYS_EVENTS_TOPIC": topics.events, "RECSYS_DLQ_TOPIC": topics.dead_letter,
                 "RECSYS_ONLINE_METRICS_TOPIC": topics.online_metrics}
    # the command line with a client certificate, on the listener that requires one
    cli_env = {**os.environ, **topic_env, "RECSYS_KAFKA_BOOTSTRAP": broker.mtls_bootstrap,
               "RECSYS_KAFKA_TLS_CA": str(client / "ca.crt"), "RECSYS_KAFKA_TLS_CERT": str(client / "tls.crt"),
               "RECSYS_KAFKA_TLS_KEY": str(client / "tls.key"), "RECSYS_DATABASE_URL": pg_url}

    def recsys(*argv: str) -> str:
        done = subprocess.run([sys.executable, "-m", "cli.main", *argv], env=cli_env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    assert f"{topics.events}: created" in recsys("events", "topics", "--partitions", "2")
    recsys("data", "load", "--synthetic-users", "300", "--synthetic-items", "200")  # the catalogue events name
    stream = StreamProcess({**topic_env, "RECSYS_KAFKA_BOOTSTRAP": broker.tls_bootstrap,
                            "RECSYS_KAFKA_TLS_CA": str(client / "ca.crt"), "RECSYS_DATABASE_URL": pg_url,
                            "RECSYS_STREAM_GROUP": f"g-{uuid.uuid4().hex[:6]}", "RECSYS_METRICS_PORT": "0"},
                           tmp_path / "stream.log").start()
    try:
        before = stored(pg_url)[0]
        assert before > 0
        recsys("events", "produce", "--users", "300", "--items", "200", "--count", "50", "--seed", "5")
        wait_for_rows(pg_url, before + 50, 180, stream)
    finally:
        stream.stop()


def test_tls_settings_refuse_a_missing_file_or_a_half_given_identity(tmp_path):
    assert KafkaTls.from_env({}).client_config() == {}
    ca = tmp_path / "ca.crt"
    ca.write_text("pem")
    with pytest.raises(SettingsError, match="RECSYS_KAFKA_TLS_CA: no such file"):
        KafkaTls.from_env({"RECSYS_KAFKA_TLS_CA": str(tmp_path / "missing.crt")})
    with pytest.raises(SettingsError, match="go together"):
        KafkaTls.from_env({"RECSYS_KAFKA_TLS_CA": str(ca), "RECSYS_KAFKA_TLS_CERT": str(ca)})
    with pytest.raises(SettingsError, match="needs RECSYS_KAFKA_TLS_CA"):
        KafkaTls.from_env({"RECSYS_KAFKA_TLS_CERT": str(ca), "RECSYS_KAFKA_TLS_KEY": str(ca)})
    config = KafkaTls.from_env({"RECSYS_KAFKA_TLS_CA": str(ca), "RECSYS_KAFKA_TLS_CERT": str(ca),
                                "RECSYS_KAFKA_TLS_KEY": str(ca)}).client_config()
    assert config == {"security.protocol": "ssl", "ssl.ca.location": str(ca),
                      "ssl.endpoint.identification.algorithm": "https", "ssl.certificate.location": str(ca),
                      "ssl.key.location": str(ca)}
