"""10,000 hostile event payloads (random bytes, mutations of valid events,
events with edge values in every field; tests/fuzz_inputs.py) through the stream processor into a
real PostgreSQL: nothing raises, every record is stored, a duplicate, or a dead letter with its
reason, the offsets are committed, and the rows stored are exactly the events counted as stored."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from fuzz_inputs import mutate, payloads
from sqlalchemy import text

from events.bus import Topics
from events.codec import make_event
from events.memory_bus import InProcessBus
from recsys.v1 import events_pb2
from store import repository
from store.db import make_engine
from stream.processor import ProcessorConfig, StreamProcessor

N = 10_000  # a few seconds
TOPICS = Topics()
ITEMS = ["P0000001", "P0000003", "P0000042"]


@pytest.fixture
def engine(pg_url):
    engine = make_engine(pg_url)
    with engine.begin() as connection:
        repository.upsert_products(connection, [{"item_id": i, "categories": [], "attributes": {}} for i in ITEMS])
    yield engine
    engine.dispose()


def test_hostile_events_are_stored_or_dead_lettered_never_a_crash(engine):
    rng = random.Random(7)
    valid = [make_event(f"U{n:07d}", rng.choice(ITEMS), kind, value=4 if kind == "rating" else 1,
                        model_version="fuzz-v1")
             for n, kind in enumerate(["view", "click", "add_to_cart", "purchase", "rating"] * 4)]
    bus = InProcessBus(partitions=3)
    publisher = bus.publisher()
    sent = list(payloads(valid, events_pb2.UserEvent, N, seed=11))
    sent += [mutate(valid[0].SerializeToString(), rng) for _ in range(50)] + [v.SerializeToString() for v in valid]
    for payload in sent:
        publisher.publish(TOPICS.events, rng.randbytes(4), payload)
    processor = StreamProcessor(bus.source(TOPICS.events, "fuzz"), bus.publisher(), engine, TOPICS,
                                ProcessorConfig(poll_timeout_s=0.01, max_batch=2000))
    while sum(bus.committed("fuzz", TOPICS.events).values()) < len(sent):
        processor.run_once()
    totals = processor.totals
    assert totals.stored + totals.duplicates + totals.dead_letters == len(sent), totals
    assert totals.stored >= len(valid) and totals.dead_letters > N // 2, totals
    letters = bus.records(TOPICS.dead_letter)
    assert len(letters) == totals.dead_letters
    assert all(bus.headers(letter).get("recsys.reason") for letter in letters)
    with engine.connect() as connection:
        rows = connection.execute(text("select count(*) from interactions")).scalar_one()
    assert rows == totals.stored
    reasons = Counter(bus.headers(letter)["recsys.reason"] for letter in letters)
    assert len(reasons) >= 10, reasons  # the generator reaches many of the codec's checks
    print(totals, dict(reasons))
