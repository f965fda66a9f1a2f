"""The stream processor on the in-process bus (the embedded default's) with a real store."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from events.bus import Topics
from events.codec import make_event
from events.memory_bus import InProcessBus
from recsys.v1 import events_pb2
from store import repository
from store.db import make_engine, upgrade
from stream.metrics import DEAD_LETTERS
from stream.processor import BatchResult, ProcessorConfig, StreamProcessor

TOPICS = Topics()
ITEMS = [f"P{i}" for i in range(20)]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def engine(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
        upgrade(url)
    else:
        url = request.getfixturevalue("pg_url")
    engine = make_engine(url)
    with engine.begin() as connection:
        repository.upsert_products(connection, [{"item_id": i, "categories": [], "attributes": {}} for i in ITEMS])
    yield engine
    engine.dispose()


def _processor(bus, engine, **config):
    return StreamProcessor(bus.source(TOPICS.events, "g"), bus.publisher(), engine, TOPICS,
                           ProcessorConfig(poll_timeout_s=0.01, **config))


def _send(bus, events):
    publisher = bus.publisher()
    for event in events:
        payload = event if isinstance(event, bytes) else event.SerializeToString()
        key = None if isinstance(event, bytes) else event.user_id.encode()
        publisher.publish(TOPICS.events, key, payload)


def _drain(processor, rounds=20):
    for _ in range(rounds):
        processor.run_once()


def _count(engine):
    from sqlalchemy import func, select

    from store.tables import Interaction

    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(Interaction)))


def test_events_are_stored_once_and_offsets_committed(engine):
    bus = InProcessBus()
    events = [make_event(f"u{n % 7}", ITEMS[n % 20], "click") for n in range(300)]
    _send(bus, events)
    processor = _processor(bus, engine)
    _drain(processor)
    assert _count(engine) == 300
    assert sum(bus.committed("g", TOPICS.events).values()) == 300
    # a replay (as after a crash before the offset commit) adds nothing
    replay = _processor(InProcessBus(), engine)
    result = replay.process(bus.records(TOPICS.events))
    assert (result.stored, result.duplicates) == (0, 300)
    assert _count(engine) == 300


REASONS = ["bad_value", "oversized", "undecodable", "unknown_item"]


def test_bad_events_go_to_the_dead_letter_topic_and_good_ones_flow(engine):
    bus = InProcessBus()
    good = [make_event("u1", ITEMS[0], "view"), make_event("u2", ITEMS[1], "purchase")]
    _send(bus, [good[0], b"\x00garbage", make_event("u1", "NOT-AN-ITEM", "click"),
                make_event("u3", ITEMS[2], "rating", value=9), make_event("u4", ITEMS[3], "view", session_id="x" * 100),
                good[1]])
    processor = _processor(bus, engine, max_event_bytes=100)
    counted_before = {reason: DEAD_LETTERS.labels(reason=reason)._value.get() for reason in REASONS}
    _drain(processor)
    assert _count(engine) == 2
    dead = bus.records(TOPICS.dead_letter)
    reasons = sorted(bus.headers(r)["recsys.reason"] for r in dead)
    assert reasons == REASONS
    assert all(DEAD_LETTERS.labels(reason=reason)._value.get() == counted_before[reason] + 1
               for reason in REASONS)
    for record in dead:  # the original bytes and where they came from survive
        headers = bus.headers(record)
        assert headers["recsys.topic"] == TOPICS.events and headers["recsys.error"]
        assert record.value in {r.value for r in bus.records(TOPICS.events)}
    assert sum(bus.committed("g", TOPICS.events).values()) == 6


def test_duplicates_within_a_batch_count_once(engine):
    bus = InProcessBus(partitions=1)
    event = make_event("u1", ITEMS[0], "click")
    _send(bus, [event, event])
    processor = _processor(bus, engine)
    _drain(processor)
    assert _count(engine) == 1 and processor.totals.duplicates == 1


def _register(engine, *versions: str) -> None:
    with engine.begin() as connection:
        for version in versions:
            repository.register_model_version(connection, "shop", version, "lightgcn", "", {})


def test_online_counts_per_version_are_exact_under_replay(engine):
    _register(engine, "v1", "v2")
    bus = InProcessBus()
    events = ([make_event(f"u{n}", ITEMS[n % 20], "view", model_version="v1") for n in range(10)]
              + [make_event(f"u{n}", ITEMS[n % 20], "click", model_version="v1") for n in range(3)]
              + [make_event(f"u{n}", ITEMS[n % 20], "view", model_version="v2") for n in range(4)]
              + [make_event("u0", ITEMS[0], "purchase", model_version="v2"), make_event("u0", ITEMS[1], "view")])
    _send(bus, events)
    processor = _processor(bus, engine, window_s=3600)
    _drain(processor)
    processor.process(bus.records(TOPICS.events))  # replayed batch must not count again
    since = datetime.now(UTC) - timedelta(hours=2)
    with engine.connect() as connection:
        v1 = repository.online_totals(connection, "v1", since)
        v2 = repository.online_totals(connection, "v2", since)
    assert v1 == {"impressions": 10, "clicks": 3, "add_to_carts": 0, "purchases": 0}
    assert v2 == {"impressions": 4, "clicks": 0, "add_to_carts": 0, "purchases": 1}
    processor.publish_online_metrics(force=True)
    published = {}
    for record in bus.records(TOPICS.online_metrics):
        message = events_pb2.OnlineMetrics.FromString(record.value)
        published[message.model_version] = (message.impressions, message.clicks, round(message.ctr, 3))
    assert published == {"v1": (10, 3, 0.3), "v2": (4, 0, 0.0)}


def test_run_stops_promptly(engine):
    bus = InProcessBus()
    processor = _processor(bus, engine)
    stop = threading.Event()
    thread = threading.Thread(target=processor.run, args=(stop,))
    thread.start()
    _send(bus, [make_event("u1", ITEMS[0], "click")])
    for _ in range(200):
        if _count(engine) == 1:
            break
        threading.Event().wait(0.02)
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive() and _count(engine) == 1


def test_the_embedded_demo_changes_a_new_shoppers_recommendations(publish, small_dataset, tmp_path):
    from cli.event_demo import run_event_demo

    result = run_event_demo(publish("lightgcn", "demo"), small_dataset.catalogue, tmp_path / "demo.db",
                            echo=lambda line: None)
    assert result["stored"] == 3 and result["dead_letters"] == 1
    assert result["after"] != result["before"] and not set(result["clicked"]) & set(result["after"])


def test_stopping_while_the_database_is_away_commits_nothing_and_does_not_crash():
    bus = InProcessBus()
    _send(bus, [make_event("u1", ITEMS[0], "click")])
    unreachable = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/none", connect_args={"connect_timeout": 1})
    processor = _processor(bus, unreachable, backoff_initial_s=0.01)
    stop = threading.Event()
    stop.set()  # SIGTERM arrives during the outage
    assert processor.process(bus.records(TOPICS.events), stop) == BatchResult()
    assert sum(bus.committed("g", TOPICS.events).values()) == 0
    unreachable.dispose()


def test_an_event_the_store_refuses_is_dead_lettered_and_its_batch_stored(engine, monkeypatch):
    """A record the database rejects for its data (not for being away) must not block its batch:
    before, every replay of the batch failed again and nothing after it was ever stored."""
    from sqlalchemy.exc import DataError

    store_events = repository.store_events

    def refusing(connection, rows):
        if any(row[1] == "poison" for row in rows):
            raise DataError("INSERT ...", {"secret": "parameters"}, ValueError("invalid byte sequence"))
        return store_events(connection, rows)

    monkeypatch.setattr(repository, "store_events", refusing)
    bus = InProcessBus()
    events = [make_event(f"u{i}", ITEMS[i], "view") for i in range(5)]
    events.insert(3, make_event("poison", ITEMS[9], "view"))
    _send(bus, events)
    _drain(_processor(bus, engine))
    assert _count(engine) == 5
    [dead] = bus.records(TOPICS.dead_letter)
    headers = bus.headers(dead)
    assert headers["recsys.reason"] == "store_refused" and "secret" not in headers["recsys.error"]
    assert sum(bus.committed("g", TOPICS.events).values()) == 6


def test_online_metrics_only_for_registered_versions(engine):
    """An event's model_version is whatever its producer wrote: 2,000 made-up versions must not make
    2,000 metric series or online_metrics rows."""
    from stream.metrics import ONLINE_EVENTS
    from stream.processor import UNREGISTERED

    _register(engine, "v1")
    bus = InProcessBus()
    made_up = [make_event(f"u{n}", ITEMS[n % 20], "view", model_version=f"fuzz-{n}") for n in range(2000)]
    _send(bus, [*made_up, make_event("u1", ITEMS[1], "view", model_version="v1")])
    series_before = len(ONLINE_EVENTS._metrics)
    unregistered_before = ONLINE_EVENTS.labels(UNREGISTERED, "view")._value.get()
    _drain(_processor(bus, engine, window_s=3600, max_batch=500), rounds=40)
    assert _count(engine) == 2001  # the events themselves are kept
    assert len(ONLINE_EVENTS._metrics) <= series_before + 2  # at most v1/view and unregistered/view
    assert ONLINE_EVENTS.labels(UNREGISTERED, "view")._value.get() == unregistered_before + 2000
    from sqlalchemy import text

    with engine.connect() as connection:
        versions = set(connection.scalars(text("SELECT DISTINCT model_version FROM online_metrics")))
    assert versions == {"v1"}


def test_an_id_reused_for_another_event_is_a_conflict_not_a_duplicate(engine):
    """One user's events share a partition, so their order is the order sent: the first wins."""
    bus = InProcessBus()
    first = make_event("u1", ITEMS[0], "view", event_id="e-1")
    processor = _processor(bus, engine)
    _send(bus, [first, make_event("u1", ITEMS[1], "purchase", event_id="e-1")])  # same id in one batch
    _drain(processor)
    _send(bus, [first, make_event("u1", ITEMS[2], "click", event_id="e-1")])  # a replay, and a clash later
    _drain(processor)
    assert _count(engine) == 1
    reasons = [bus.headers(r)["recsys.reason"] for r in bus.records(TOPICS.dead_letter)]
    assert reasons == ["conflict", "conflict"]  # the exact replay of e-1 is a plain duplicate
    assert "already stored for another event" in bus.headers(bus.records(TOPICS.dead_letter)[0])["recsys.error"]
