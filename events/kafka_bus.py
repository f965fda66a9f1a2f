"""Kafka (confluent-kafka / librdkafka) behind the bus interface, and topic administration."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from events.bus import BusError, Record, TopicMissing, Topics

log = logging.getLogger(__name__)
PARTITION_CHECK_S = 60.0  # how often a reader looks for partitions added to its topic


def ensure_topics(bootstrap: str, topics: Topics, partitions: int = 6, replication: int = 1,
                  timeout_s: float = 30.0, **overrides: object) -> dict[str, str]:
    """Create the three topics if missing; returns what happened to each ("created" / "exists")."""
    admin = AdminClient({"bootstrap.servers": bootstrap, **overrides})
    wanted = [
        NewTopic(topics.events, partitions, replication),
        # failed events are kept for people to inspect and replay: a month
        NewTopic(topics.dead_letter, 1, replication, config={"retention.ms": str(30 * 24 * 3600 * 1000)}),
        NewTopic(topics.online_metrics, 1, replication),
    ]
    outcome: dict[str, str] = {}
    for name, future in admin.create_topics(wanted, request_timeout=timeout_s).items():
        try:
            future.result(timeout=timeout_s)
            outcome[name] = "created"
        except KafkaException as exc:
            if exc.args[0].code() == KafkaError.TOPIC_ALREADY_EXISTS:
                outcome[name] = "exists"
            else:
                raise BusError(f"creating topic {name} failed: {exc.args[0].str()}") from None
    return outcome


class KafkaPublisher:
    """Idempotent producer (no duplicates or reordering from its own retries); counts failed deliveries."""

    def __init__(self, bootstrap: str, **overrides: object) -> None:
        config = {"bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all",
                  "linger.ms": 5, "compression.type": "lz4", "client.id": "recsys-publisher"}
        config.update(overrides)
        self._producer = Producer(config)
        self._lock = threading.Lock()
        self.delivered = 0
        self.failed: list[str] = []

    def _on_delivery(self, error: KafkaError | None, _message) -> None:
        with self._lock:
            if error is None:
                self.delivered += 1
            else:
                self.failed.append(error.str())

    def publish(self, topic: str, key: bytes | None, value: bytes | None,
                headers: dict[str, str] | None = None) -> None:
        while True:
            try:
                self._producer.produce(topic, value=value, key=key, headers=headers,
                                       on_delivery=self._on_delivery)
                break
            except BufferError:  # local queue full: let deliveries drain, then retry
                self._producer.poll(0.05)
        self._producer.poll(0)

    def flush(self, timeout_s: float) -> None:
        left = self._producer.flush(timeout_s)
        with self._lock:
            failed, self.failed = self.failed, []
        if left:
            raise BusError(f"{left} messages not acknowledged within {timeout_s:g} s")
        if failed:
            raise BusError(f"{len(failed)} messages failed: {failed[0]}")

    def close(self) -> None:
        self._producer.flush(10)


def _fetch(consumer: Consumer, max_records: int, timeout_s: float, who: str) -> list[Record]:
    """Wait only for the first record, then take what is already fetched: a lone event is handled
    at once (freshness), and while one batch is handled the next accumulates, so a backlog still
    comes in full batches (throughput)."""
    first = consumer.poll(timeout_s)
    if first is None:
        return []
    out = []
    for message in [first] + (consumer.consume(max_records - 1, 0) if max_records > 1 else []):
        error = message.error()
        if error is not None:
            # transport errors while a broker restarts are retried by librdkafka itself
            if error.fatal():
                raise BusError(f"{who} failed: {error.str()}")
            log.warning("%s: %s", who, error.str())
            continue
        _, stamp = message.timestamp()
        out.append(Record(message.topic(), message.partition(), message.offset(), message.key(), message.value(),
                          stamp))
    return out


class KafkaSource:
    """A consumer-group member with manual offset commits."""

    def __init__(self, bootstrap: str, topic: str, group: str,
                 on_stats: Callable[[dict], None] | None = None, **overrides: object) -> None:
        config = {
            "bootstrap.servers": bootstrap, "group.id": group,
            "enable.auto.commit": False, "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
            "partition.assignment.strategy": "cooperative-sticky",
            "statistics.interval.ms": 5000 if on_stats else 0,
            "client.id": "recsys-stream",
        }
        config.update(overrides)
        if on_stats:
            config["stats_cb"] = lambda raw: on_stats(json.loads(raw))
        self._consumer = Consumer(config)
        self._owned: set[tuple[str, int]] = set()
        self._paused = False
        self._consumer.subscribe([topic], on_assign=self._on_assign, on_revoke=self._on_revoke,
                                 on_lost=self._on_revoke)

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._owned.update((p.topic, p.partition) for p in partitions)
        log.info("assigned %s", sorted(p.partition for p in partitions))
        if self._paused and partitions:
            consumer.pause(partitions)

    def _on_revoke(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._owned.difference_update((p.topic, p.partition) for p in partitions)
        log.info("revoked %s", sorted(p.partition for p in partitions))

    def poll(self, max_records: int, timeout_s: float) -> list[Record]:
        return _fetch(self._consumer, max_records, timeout_s, "consumer")

    def commit(self, records: list[Record]) -> None:
        last: dict[tuple[str, int], int] = {}
        for r in records:
            if (r.topic, r.partition) in self._owned:
                last[(r.topic, r.partition)] = max(last.get((r.topic, r.partition), -1), r.offset)
        if not last:
            return
        offsets = [TopicPartition(t, p, o + 1) for (t, p), o in last.items()]
        try:
            self._consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as exc:
            raise BusError(f"offset commit failed: {exc.args[0].str()}") from None

    def pause(self) -> None:
        self._paused = True
        assignment = self._consumer.assignment()
        if assignment:
            self._consumer.pause(assignment)

    def resume(self) -> None:
        self._paused = False
        assignment = self._consumer.assignment()
        if assignment:
            self._consumer.resume(assignment)

    def owns(self, record: Record) -> bool:
        return (record.topic, record.partition) in self._owned

    def close(self) -> None:
        self._consumer.close()


class KafkaTopicReader:
    """Every partition of a topic from a point in time on, assigned directly (no group membership,
    no commits): each serving replica runs one and sees every record. Partitions added later are
    read from their beginning."""

    def __init__(self, bootstrap: str, topic: str, since_ms: int, timeout_s: float = 10.0,
                 **overrides: object) -> None:
        config = {"bootstrap.servers": bootstrap, "group.id": f"recsys-reader-{uuid.uuid4().hex[:12]}",
                  "enable.auto.commit": False, "enable.auto.offset.store": False,
                  "auto.offset.reset": "earliest", "client.id": "recsys-reader"}
        config.update(overrides)
        self.topic, self.timeout_s = topic, timeout_s
        self._consumer = Consumer(config)
        self._end_at_start: dict[int, int] = {}
        self._assigned: list[TopicPartition] = []
        self._checked_at = 0.0
        try:
            partitions = self._partitions()
            starts = self._consumer.offsets_for_times([TopicPartition(topic, p, since_ms) for p in partitions],
                                                      timeout=timeout_s)
            for start in starts:
                low, high = self._consumer.get_watermark_offsets(TopicPartition(topic, start.partition),
                                                                 timeout=timeout_s)
                self._end_at_start[start.partition] = high
                # -1: nothing at or after since_ms in this partition, so start at its end
                start.offset = high if start.offset < 0 else start.offset
                if 0 < low == start.offset:
                    log.warning("%s[%d]: records before offset %d were deleted by retention; some written "
                                "after the requested start time may be among them", topic, start.partition, low)
        except TopicMissing:
            self._consumer.close()
            raise
        except (KafkaException, BusError) as exc:
            self._consumer.close()
            reason = exc.args[0].str() if isinstance(exc, KafkaException) else str(exc)
            raise BusError(f"cannot read {topic}: {reason}") from None
        self._assigned = list(starts)
        self._next = {start.partition: start.offset for start in starts}
        self._consumer.assign(self._assigned)
        self._checked_at = time.monotonic()

    def _partitions(self) -> list[int]:
        metadata = self._consumer.list_topics(self.topic, timeout=self.timeout_s).topics.get(self.topic)
        if metadata is not None and metadata.error is not None \
                and metadata.error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
            raise TopicMissing(f"topic {self.topic} does not exist yet")
        if metadata is None or metadata.error is not None or not metadata.partitions:
            reason = metadata.error.str() if metadata is not None and metadata.error else "no partitions"
            raise BusError(f"topic {self.topic} is not readable: {reason}")
        return sorted(metadata.partitions)

    def _assign_new_partitions(self) -> None:
        self._checked_at = time.monotonic()
        try:
            known = {tp.partition for tp in self._assigned}
            new = [TopicPartition(self.topic, p, OFFSET_BEGINNING) for p in self._partitions() if p not in known]
        except (BusError, KafkaException) as exc:
            log.warning("checking %s for new partitions: %s", self.topic, exc)
            return
        if new:
            log.info("reading new partitions %s of %s", [tp.partition for tp in new], self.topic)
            self._consumer.incremental_assign(new)
            self._assigned.extend(new)

    def poll(self, max_records: int, timeout_s: float) -> list[Record]:
        if time.monotonic() - self._checked_at > PARTITION_CHECK_S:
            self._assign_new_partitions()
        records = _fetch(self._consumer, max_records, timeout_s, "reader")
        for record in records:
            self._next[record.partition] = record.offset + 1
        return records

    def caught_up(self) -> bool:
        return all(self._next.get(p, 0) >= end for p, end in self._end_at_start.items())

    def close(self) -> None:
        self._consumer.close()
