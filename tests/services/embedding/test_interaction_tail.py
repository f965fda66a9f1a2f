"""Every embedding replica reads the events topic itself (services/embedding/tail.py): an event
reaches all of them, a replica that starts late catches up from its model's data time, and only
positive interactions with items the model knows move a user's vector. On the in-process bus; the
same with Kafka and separate processes is in test_replicas_see_every_event.py."""

from __future__ import annotations

import time

import numpy as np
import pytest

from events.bus import BusError, Topics
from events.codec import make_event
from events.memory_bus import InProcessBus
from services.embedding.store import EmbeddingModel, RecentInteractions
from services.embedding.tail import InteractionTail, catchup_start
from services.embedding.users import UserEmbeddings

TOPIC = Topics().events
ITEMS = [f"P{i:07d}" for i in range(50)]


def _model() -> EmbeddingModel:
    rng = np.random.default_rng(0)
    return EmbeddingModel("v1", {"trained-user": 0}, ITEMS, {v: i for i, v in enumerate(ITEMS)},
                          rng.normal(size=(1, 4)).astype(np.float32),
                          rng.normal(size=(len(ITEMS), 4)).astype(np.float32), np.ones(len(ITEMS)),
                          np.array([0, 1]), np.array([0]))


def _replica() -> UserEmbeddings:
    users = UserEmbeddings()
    users.load(_model())
    return users


def _publish(bus: InProcessBus, *events) -> None:
    publisher = bus.publisher()
    for event in events:
        publisher.publish(TOPIC, event.user_id.encode(), event.SerializeToString())


def _until(check, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def _tail(bus: InProcessBus, users: UserEmbeddings, **options) -> InteractionTail:
    return InteractionTail(lambda since_ms: bus.reader(TOPIC, since_ms), users, poll_s=0.01, **options)


def test_every_replica_records_every_event():
    bus = InProcessBus()
    replicas = [_replica() for _ in range(3)]
    tails = [_tail(bus, users) for users in replicas]
    for tail in tails:
        tail.start(0)
    try:
        _publish(bus, make_event("shopper", ITEMS[7], "click"), make_event("other", ITEMS[9], "purchase"))
        for users in replicas:
            _until(lambda users=users: users.recent.get("shopper") == [ITEMS[7]] and users.recent.get("other"))
            _, state = users.user_state("shopper")
            assert state.folded_in and state.seen.tolist() == [7]
    finally:
        for tail in tails:
            tail.stop()


def test_only_positive_events_for_known_items_are_recorded():
    bus = InProcessBus(partitions=1)
    users = _replica()
    tail = _tail(bus, users)
    outcomes = tail.apply([])
    assert outcomes == {}
    _publish(bus, make_event("u", ITEMS[1], "view"), make_event("u", ITEMS[2], "rating", value=2),
             make_event("u", "P-not-in-the-model", "click"), make_event("u", ITEMS[3], "rating", value=4),
             make_event("u", ITEMS[4], "add_to_cart"))
    bus.publisher().publish(TOPIC, b"u", b"\x00 not an event")
    outcomes = tail.apply(bus.records(TOPIC))
    assert outcomes == {"not_positive": 2, "unknown_item": 1, "recorded": 2, "invalid": 1}
    assert users.recent.get("u") == [ITEMS[3], ITEMS[4]]


def test_a_replica_started_later_catches_up_from_its_models_data_time():
    bus = InProcessBus()
    _publish(bus, make_event("shopper", ITEMS[1], "click"))  # before the model's data was read: in the model
    time.sleep(0.05)
    data_read_at = time.time()
    time.sleep(0.05)
    _publish(bus, make_event("shopper", ITEMS[2], "click"), make_event("shopper", ITEMS[3], "purchase"))
    users = _replica()
    tail = _tail(bus, users)
    tail.start(data_read_at)
    try:
        assert tail.caught_up.wait(30)
        assert users.recent.get("shopper") == [ITEMS[2], ITEMS[3]]
        _publish(bus, make_event("shopper", ITEMS[4], "click"))  # and keeps reading after catching up
        _until(lambda: users.recent.get("shopper") == [ITEMS[2], ITEMS[3], ITEMS[4]])
    finally:
        tail.stop()


def test_catchup_starts_a_margin_before_the_data_time():
    assert catchup_start(1_000_000.0, margin_s=600) == 999_400.0
    assert catchup_start(0.0) == 0.0  # an artifact without a data time: read everything retained


def test_a_lost_connection_is_retried_and_resumes_where_it_was():
    bus = InProcessBus()
    users = _replica()
    opened: list[int] = []

    def open_reader(since_ms: int):
        opened.append(since_ms)
        if len(opened) == 1:
            raise BusError("broker away")
        return bus.reader(TOPIC, since_ms)

    tail = InteractionTail(open_reader, users, poll_s=0.01, retry_s=0.05)
    _publish(bus, make_event("shopper", ITEMS[5], "click"))
    tail.start(0)
    try:
        _until(lambda: users.recent.get("shopper") == [ITEMS[5]])
        assert len(opened) == 2
    finally:
        tail.stop()


def test_a_repeated_event_adds_nothing():
    recent = RecentInteractions(max_items_per_user=3)
    recent.add("u", ["a", "b"])
    recent.add("u", ["a"])  # re-read after a reconnect, or the same click delivered twice
    assert recent.get("u") == ["b", "a"]
    recent.add("u", ["c", "c", "d"])
    assert recent.get("u") == ["a", "c", "d"]


@pytest.mark.parametrize("training, created, expected", [
    ({"data_read_at": "2026-01-02T03:04:05Z"}, "2026-01-02T04:00:00Z", 1767323045.0),
    ({"train_seconds": 60}, "2026-01-02T03:05:05Z", 1767323045.0),
    ({}, "", 0.0),
])
def test_an_artifact_says_when_its_data_was_read(training, created, expected, tmp_path):
    from core.artifact import Artifact

    assert Artifact(tmp_path, {"training": training, "created_at": created}).data_read_at == expected
