"""Every embedding replica reads the events topic itself, so a user's click changes the answers of
all replicas, not only of the one a notifier happened to reach.

The reader belongs to no consumer group (each replica sees every record, nothing is committed)
and starts at the time the loaded model's training data was read, less a margin: a replica that
starts or restarts first catches up on everything the model has not seen, and only then says
SERVING. Records are decoded and validated with the stream processor's own codec; what it would
dead-letter is skipped here (and counted), what the model does not know is counted and skipped.
Re-reading a record (after a reconnect, or a duplicate event) is harmless: a user's fresh items
are a set.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable

from prometheus_client import Counter, Gauge, Histogram

from core.event_types import POSITIVE_TYPES, EventType
from events.bus import BusError, Record, TopicMissing, TopicReader
from events.codec import InvalidEvent, decode
from services.embedding.users import MIN_POSITIVE_RATING, UserEmbeddings

log = logging.getLogger(__name__)

# Events written to Kafka shortly before the training data was read may not have reached the store
# yet (the stream processor's lag), and producers' clocks drift: start this much earlier.
CATCHUP_MARGIN_S = 600.0

FRESH_EVENTS = Counter("recsys_embedding_fresh_events", "Events read from the events topic by this replica",
                       ["outcome"])
FRESH_DELAY = Histogram("recsys_embedding_fresh_delay_seconds",
                        "From an event's Kafka timestamp to its interaction being applied on this replica",
                        buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0))
CAUGHT_UP = Gauge("recsys_embedding_fresh_caught_up",
                  "1 once this replica has read every event that was in the topic when it started")


class InteractionTail:
    """A thread that applies the events topic's interactions to ``users`` as they arrive."""

    def __init__(self, open_reader: Callable[[int], TopicReader], users: UserEmbeddings, max_batch: int = 2000,
                 poll_s: float = 0.05, retry_s: float = 2.0) -> None:
        self.open_reader = open_reader
        self.users = users
        self.max_batch = max_batch
        self.poll_s = poll_s
        self.retry_s = retry_s
        self.caught_up = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._resume_ms = 0

    def start(self, since_s: float) -> None:
        """Read from ``since_s`` (seconds since 1970) on; see :func:`catchup_start`."""
        self._resume_ms = int(since_s * 1000)
        self._thread = threading.Thread(target=self._run, name="interaction-tail", daemon=True)
        self._thread.start()

    async def wait_caught_up(self, timeout_s: float) -> bool:
        return await asyncio.to_thread(self.caught_up.wait, timeout_s)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        reader: TopicReader | None = None
        while not self._stop.is_set():
            try:
                if reader is None:
                    reader = self.open_reader(self._resume_ms)
                    log.info("reading fresh interactions from %s on",
                             time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self._resume_ms / 1000)))
                records = reader.poll(self.max_batch, self.poll_s)
                if records:
                    self.apply(records)
                if not self.caught_up.is_set() and reader.caught_up():
                    self.caught_up.set()
                    CAUGHT_UP.set(1)
                    log.info("caught up with the events topic")
            except TopicMissing as exc:
                if not self.caught_up.is_set():  # no topic, no events to wait for
                    log.info("%s: nothing to catch up with; will read it once it exists", exc)
                    self.caught_up.set()
                    CAUGHT_UP.set(1)
                self._stop.wait(self.retry_s)
            except BusError as exc:
                log.warning("events topic: %s; retrying in %g s", exc, self.retry_s)
                if reader is not None:
                    reader.close()
                    reader = None
                self._stop.wait(self.retry_s)
        if reader is not None:
            reader.close()

    def apply(self, records: list[Record]) -> dict[str, int]:
        """Record the interactions in ``records``; returns how many had each outcome."""
        model = self.users.current()
        fresh: dict[str, list[str]] = defaultdict(list)
        outcomes: dict[str, int] = defaultdict(int)
        now_ms = time.time() * 1000
        for record in records:
            self._resume_ms = max(self._resume_ms, record.timestamp_ms)
            try:
                event = decode(record.value)
            except InvalidEvent:
                outcomes["invalid"] += 1  # the stream processor dead-letters it with the reason
                continue
            if event.event_type not in POSITIVE_TYPES or (event.event_type is EventType.RATING
                                                          and event.value < MIN_POSITIVE_RATING):
                outcomes["not_positive"] += 1  # views and low ratings do not move a user's vector
                continue
            item = model.item_index.get(event.item_id)
            if item is None:
                outcomes["unknown_item"] += 1
                continue
            fresh[event.user_id].append(model.item_ids[item])  # the model's own string, not a copy
            outcomes["recorded"] += 1
            if record.timestamp_ms:
                FRESH_DELAY.observe(max(0.0, now_ms - record.timestamp_ms) / 1000)
        for user, items in fresh.items():
            self.users.record(user, items)
        for outcome, count in outcomes.items():
            FRESH_EVENTS.labels(outcome).inc(count)
        return dict(outcomes)


def catchup_start(data_read_at: float, margin_s: float = CATCHUP_MARGIN_S) -> float:
    """Where a replica serving a model trained on data read at ``data_read_at`` starts reading."""
    return max(0.0, data_read_at - margin_s)
