"""The stream processor as a real process against a real Kafka broker and a real PostgreSQL:
crash, broker restart, database outage and bad input lose nothing and duplicate nothing."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from confluent_kafka import Consumer, TopicPartition
from stream_helpers import StreamProcess, stored, wait_for_rows

from events.codec import make_event
from events.kafka_bus import KafkaPublisher
from store import repository
from store.db import make_engine

ITEMS = [f"P{i:04d}" for i in range(200)]


@pytest.fixture
def catalogue_url(pg_url):
    engine = make_engine(pg_url)
    with engine.begin() as connection:
        repository.upsert_products(connection, [{"item_id": i, "categories": [], "attributes": {}} for i in ITEMS])
    engine.dispose()
    return pg_url


@pytest.fixture
def stream(kafka_broker, topics, catalogue_url, tmp_path):
    group = f"g-{uuid.uuid4().hex[:8]}"
    env = {"RECSYS_KAFKA_BOOTSTRAP": kafka_broker.bootstrap, "RECSYS_DATABASE_URL": catalogue_url,
           "RECSYS_EVENTS_TOPIC": topics.events, "RECSYS_DLQ_TOPIC": topics.dead_letter,
           "RECSYS_ONLINE_METRICS_TOPIC": topics.online_metrics, "RECSYS_STREAM_GROUP": group,
           "RECSYS_METRICS_PORT": "0", "RECSYS_KAFKA_SESSION_TIMEOUT_MS": "6000",
           "RECSYS_STREAM_MAX_BATCH": "500", "RECSYS_MAX_EVENT_BYTES": "1024"}
    processes = []

    def start() -> StreamProcess:
        process = StreamProcess(env, tmp_path / "stream.log").start()
        processes.append(process)
        return process

    start.group = group
    yield start
    for process in processes:
        process.stop()


def _events(count: int, tag: str):
    return [make_event(f"u{n % 500}", ITEMS[n % len(ITEMS)], ("view", "click", "purchase")[n % 3],
                       event_id=f"{tag}-{n}", model_version="v1") for n in range(count)]


def _produce(bootstrap: str, topic: str, events, rate: float | None = None) -> None:
    publisher = KafkaPublisher(bootstrap)
    started = time.perf_counter()
    for n, event in enumerate(events):
        if rate:
            wait = started + n / rate - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
        publisher.publish(topic, event.user_id.encode(), event.SerializeToString())
    publisher.flush(120)


def _committed(bootstrap: str, group: str, topic: str, partitions: int = 3) -> int:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        offsets = consumer.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=10)
        return sum(max(tp.offset, 0) for tp in offsets)
    finally:
        consumer.close()


def _event_ids(url: str) -> set[str]:
    from sqlalchemy import text

    engine = make_engine(url)
    with engine.connect() as connection:
        ids = set(connection.scalars(text("SELECT event_id FROM interactions")))
    engine.dispose()
    return ids


def test_kill_9_mid_stream_then_restart_loses_and_duplicates_nothing(kafka_broker, topics, catalogue_url, stream):
    events = _events(12_000, "kill")
    producer = threading.Thread(target=_produce, args=(kafka_broker.bootstrap, topics.events, events, 4000))
    producer.start()
    first = stream()
    wait_for_rows(catalogue_url, 1500, 60, first)
    first.kill()  # mid-batch, mid-transaction or between commit and offset commit: all must be safe
    killed_at = stored(catalogue_url)[0]
    assert killed_at < len(events)
    second = stream()
    producer.join()
    rows, distinct = wait_for_rows(catalogue_url, len(events), 90, second)
    time.sleep(1.0)  # anything replayed after the last row must still be absorbed
    rows, distinct = stored(catalogue_url)
    assert rows == distinct == len(events)
    assert _event_ids(catalogue_url) == {e.event_id for e in events}


def test_broker_restart_mid_stream_recovers_by_itself(kafka_broker, topics, catalogue_url, stream):
    process = stream()
    _produce(kafka_broker.bootstrap, topics.events, _events(3000, "before"))
    wait_for_rows(catalogue_url, 3000, 60, process)
    kafka_broker.stop()
    time.sleep(2)
    kafka_broker.start()
    _produce(kafka_broker.bootstrap, topics.events, _events(3000, "after"))
    rows, distinct = wait_for_rows(catalogue_url, 6000, 120, process)
    assert rows == distinct == 6000
    assert process.proc.poll() is None  # it never gave up


def test_database_outage_retries_without_committing_offsets(kafka_broker, topics, catalogue_url, stream,
                                                            postgres_server):
    process = stream()
    _produce(kafka_broker.bootstrap, topics.events, _events(1000, "up"))
    wait_for_rows(catalogue_url, 1000, 60, process)
    time.sleep(0.5)
    committed_before = _committed(kafka_broker.bootstrap, stream.group, topics.events)
    assert committed_before == 1000
    postgres_server.stop()
    try:
        _produce(kafka_broker.bootstrap, topics.events, _events(2000, "down"))
        time.sleep(4)  # several retries with backoff
        assert _committed(kafka_broker.bootstrap, stream.group, topics.events) == committed_before
        assert process.proc.poll() is None
    finally:
        postgres_server.start()
    rows, distinct = wait_for_rows(catalogue_url, 3000, 90, process)
    assert rows == distinct == 3000
    assert "database failed, retrying" in process.output()


def test_malformed_and_oversized_events_are_dead_lettered_with_a_reason(kafka_broker, topics, catalogue_url,
                                                                        stream):
    process = stream()
    good = _events(50, "good")
    publisher = KafkaPublisher(kafka_broker.bootstrap)
    bad = {
        b"not a protobuf \xff\xff": "undecodable",
        make_event("u1", ITEMS[0], "view", session_id="s" * 120, model_version="v" * 120,
                   event_id="x" * 120).SerializeToString() * 3: "oversized",
        make_event("u1", "NO-SUCH-ITEM", "click").SerializeToString(): "unknown_item",
        make_event("", ITEMS[0], "click").SerializeToString(): "missing_user_id",
    }
    for n, event in enumerate(good):
        publisher.publish(topics.events, event.user_id.encode(), event.SerializeToString())
        if n == 25:
            for payload in bad:
                publisher.publish(topics.events, b"u1", payload)
    publisher.flush(30)
    wait_for_rows(catalogue_url, 50, 60, process)
    consumer = Consumer({"bootstrap.servers": kafka_broker.bootstrap, "group.id": f"dlq-{uuid.uuid4().hex[:6]}",
                         "auto.offset.reset": "earliest"})
    consumer.subscribe([topics.dead_letter])
    found = {}
    deadline = time.monotonic() + 30
    while len(found) < len(bad) and time.monotonic() < deadline:
        message = consumer.poll(0.5)
        if message is None or message.error():
            continue
        headers = {k: v.decode() for k, v in message.headers() or []}
        found[message.value()] = headers
    consumer.close()
    assert {payload: headers["recsys.reason"] for payload, headers in found.items()} == bad
    assert all(h["recsys.topic"] == topics.events and h["recsys.error"] for h in found.values())
    assert stored(catalogue_url) == (50, 50)


def test_members_joining_and_leaving_mid_stream_share_the_work_exactly_once(kafka_broker, topics, catalogue_url,
                                                                           stream):
    import urllib.request

    from stack.process import free_port

    events = _events(9000, "rebalance")
    producer = threading.Thread(target=_produce, args=(kafka_broker.bootstrap, topics.events, events, 3000))
    producer.start()
    first = stream()
    wait_for_rows(catalogue_url, 1000, 60, first)
    metrics_port = free_port()
    stream_env = dict(first.env, RECSYS_METRICS_PORT=str(metrics_port))
    second = StreamProcess(stream_env, first.log.with_name("second.log")).start()  # joins: partitions rebalance
    try:
        wait_for_rows(catalogue_url, 4000, 60, second)
        assert first.stop() == 0  # leaves gracefully: its partitions move to the second member
        producer.join()
        wait_for_rows(catalogue_url, len(events), 90, second)
        time.sleep(1.0)
        rows, distinct = stored(catalogue_url)
        assert rows == distinct == len(events)
        scrape = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).read().decode()
        stored_by_second = [line for line in scrape.splitlines()
                            if line.startswith('recsys_stream_events_total{outcome="stored"}')]
        assert stored_by_second and float(stored_by_second[0].split()[-1]) > 0
        assert "recsys_stream_batch_seconds_bucket" in scrape
    finally:
        second.stop()
