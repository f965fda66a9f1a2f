"""Producing user events: keyed by user id (a user's events stay ordered on one partition), and
synthetic traffic from the catalogue generator for load tests and demos."""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np

from recsys.v1 import events_pb2
from services.events.bus import Publisher
from services.events.codec import TYPE_CODES
from services.store.models import EventType
from training.data.synthetic import SyntheticConfig, SyntheticData, generate


class EventProducer:
    def __init__(self, publisher: Publisher, topic: str) -> None:
        self.publisher = publisher
        self.topic = topic
        self.sent = 0

    def send(self, event: events_pb2.UserEvent) -> None:
        self.publisher.publish(self.topic, event.user_id.encode(), event.SerializeToString())
        self.sent += 1

    def flush(self, timeout_s: float = 30.0) -> None:
        self.publisher.flush(timeout_s)


def synthetic_events(data: SyntheticData, count: int, seed: int = 0, model_versions: tuple[str, ...] = (),
                     run_id: str | None = None) -> Iterator[events_pb2.UserEvent]:
    """``count`` events replaying the generator's funnel (view -> click -> cart -> purchase -> rating)
    with the current time; each event names one of ``model_versions`` (if any) as its source."""
    ev = data.events
    rng = np.random.default_rng(seed)
    run_id = run_id or f"{int(time.time() * 1000):x}"
    order = rng.permutation(len(ev)) if count < len(ev) else np.arange(len(ev))
    names = [EventType(name) for name in ev.type_names]
    codes = [TYPE_CODES[kind] for kind in names]
    for n in range(count):
        i = int(order[n % len(order)])
        event = events_pb2.UserEvent(
            event_id=f"{run_id}-{n}", user_id=str(data.user_ids[ev.user_index[i]]),
            item_id=str(data.item_ids[ev.item_index[i]]), type=codes[ev.event_type[i]],
            value=float(ev.value[i]), session_id=f"s{ev.user_index[i]}",
            model_version=model_versions[n % len(model_versions)] if model_versions else "")
        event.time.FromNanoseconds(time.time_ns())
        yield event


def produce(producer: EventProducer, events: Iterator[events_pb2.UserEvent], rate: float | None = None,
            progress: bool = False) -> dict[str, float]:
    """Send ``events`` (at ``rate`` per second if given); returns count, seconds and events/s."""
    from tqdm import tqdm

    started = time.perf_counter()
    bar = tqdm(unit="ev", desc="producing", disable=not progress, mininterval=1.0)
    for n, event in enumerate(events):
        if rate:
            wait = started + n / rate - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
        producer.send(event)
        bar.update(1)
    producer.flush()
    bar.close()
    seconds = time.perf_counter() - started
    return {"events": producer.sent, "seconds": seconds, "events_per_s": producer.sent / seconds if seconds else 0.0}


def synthetic_catalogue(users: int, items: int, seed: int = 0) -> SyntheticData:
    return generate(SyntheticConfig(n_users=users, n_items=items, seed=seed))
