"""Producing user events, keyed by user id so that a user's events stay ordered on one partition."""

from __future__ import annotations

import time
from collections.abc import Iterator

from events.bus import Publisher
from recsys.v1 import events_pb2


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
