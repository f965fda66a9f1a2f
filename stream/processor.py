"""The stream processor: events topic -> PostgreSQL, exactly once in effect.

Per batch: decode and validate; in ONE database transaction create unseen users, insert the
events idempotently (ON CONFLICT on event_id, RETURNING the new ones) and add the new events to the
per-version online counts; then publish dead letters and wait for their acknowledgement; only then
commit the offsets. A crash anywhere replays the batch, which the unique event id turns into a
no-op, so rows are neither lost nor duplicated. While the database is away the batch is retried
with backoff, partitions are paused and no offset moves.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter as Tally
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from core.event_types import EventType
from events.bus import BusError, EventSource, Publisher, Record, Topics
from events.codec import InvalidEvent, ValidEvent, decode
from recsys.v1 import events_pb2
from store import repository
from stream import metrics
from stream.config import ProcessorConfig

log = logging.getLogger(__name__)

ONLINE_COLUMNS = {EventType.VIEW: "impressions", EventType.CLICK: "clicks",
                  EventType.ADD_TO_CART: "add_to_carts", EventType.PURCHASE: "purchases"}


Rejected = tuple[ValidEvent, str, str]  # an event for the dead-letter topic, its reason and message
UNREGISTERED = "unregistered"  # the metrics label of events naming a version the registry does not know


@dataclass
class BatchResult:
    stored: int = 0
    duplicates: int = 0
    dead_letters: int = 0


class StreamProcessor:
    def __init__(self, source: EventSource, publisher: Publisher, engine: Engine, topics: Topics,
                 config: ProcessorConfig | None = None) -> None:
        self.source = source
        self.publisher = publisher
        self.engine = engine
        self.topics = topics
        self.config = config or ProcessorConfig()
        self.totals = BatchResult()
        self._windows: dict[tuple[str, datetime], Tally] = {}
        self._last_publish = time.monotonic()
        self._registered: frozenset[str] = frozenset()
        self._registry_read_at = -float("inf")

    # ------------------------------------------------------------------------------ main loop

    def run(self, stop: threading.Event) -> None:
        log.info("stream processor consuming %s", self.topics.events)
        while not stop.is_set():
            self.run_once(stop)
        self.publish_online_metrics(force=True)

    def run_once(self, stop: threading.Event | None = None) -> BatchResult:
        records = self.source.poll(self.config.max_batch, self.config.poll_timeout_s)
        result = self.process(records, stop) if records else BatchResult()
        self.publish_online_metrics()
        return result

    def process(self, records: list[Record], stop: threading.Event | None = None) -> BatchResult:
        started = time.perf_counter()
        valid: list[tuple[Record, ValidEvent]] = []
        dead: list[tuple[Record, str, str]] = []
        for record in records:
            try:
                valid.append((record, decode(record.value, self.config.max_event_bytes)))
            except InvalidEvent as exc:
                dead.append((record, exc.reason, str(exc)))
        stored = self._retry("database", lambda: self._store_isolating([v for _, v in valid]), records, stop)
        if stored is None:  # stopped while the database was away: nothing committed, nothing lost
            return BatchResult()
        new_events, unknown, rejected = stored
        dead.extend((r, "unknown_item", f"item_id {v.item_id!r} is not in the catalogue")
                    for r, v in valid if v.item_id in unknown)
        record_of = {id(v): r for r, v in valid}
        dead.extend((record_of[id(event)], reason, message) for event, reason, message in rejected)
        rejected_ids = {id(event) for event, _, _ in rejected}
        valid = [(r, v) for r, v in valid if id(v) not in rejected_ids]
        if dead and self._retry("dead_letter", lambda: self._publish_dead_letters(dead), records, stop) is None:
            return BatchResult()  # stored, offsets not committed: a restart replays the batch as duplicates
        owned = [r for r in records if self.source.owns(r)]
        if self._retry("commit", lambda: self.source.commit(owned) or True, records, stop) is None:
            return BatchResult()
        result = BatchResult(stored=len(new_events), dead_letters=len(dead),
                             duplicates=len(valid) - len(new_events) - sum(v.item_id in unknown for _, v in valid))
        self._account(result, new_events, records, time.perf_counter() - started)
        return result

    # ------------------------------------------------------------------------------ steps

    def _store_isolating(self, events: list[ValidEvent]) -> tuple[list[ValidEvent], set[str], list[Rejected]]:
        """Store ``events``; when the database refuses the batch for its data (not for being away),
        halve it until the refused events are found: those are returned (with reason and message)
        for the dead-letter topic and the rest is stored, so one poison record never blocks its
        batch, however often it is replayed."""
        try:
            return self._store(events)
        except DBAPIError as exc:
            if isinstance(exc, OperationalError) or exc.connection_invalidated:
                raise  # the database is away: the caller retries the whole batch
            if len(events) == 1:
                log.warning("the store refused event %r: %s", events[0].event_id, str(exc.orig).splitlines()[0])
                return [], set(), [(events[0], "store_refused", f"the store refused it: {type(exc.orig).__name__}")]
        half = len(events) // 2
        first, second = self._store_isolating(events[:half]), self._store_isolating(events[half:])
        return first[0] + second[0], first[1] | second[1], first[2] + second[2]

    def _store(self, events: list[ValidEvent]) -> tuple[list[ValidEvent], set[str], list[Rejected]]:
        """Store ``events``: (the new ones, unknown item ids, conflicting ones with why)."""
        if not events:
            return [], set(), []
        with self.engine.begin() as connection:
            inserted, unknown = repository.store_events(connection, [e.copy_row() for e in events])
            inserted = set(inserted)
            # a batch may carry the same event twice: the first copy wins, like the database
            new_events, seen = [], set()
            for e in events:
                if e.event_id in inserted and e.event_id not in seen:
                    seen.add(e.event_id)
                    new_events.append(e)
            new_ids = {id(e) for e in new_events}
            conflicts = self._conflicts(connection, [e for e in events
                                                     if e.item_id not in unknown and id(e) not in new_ids])
            counts = self._online_counts(new_events, self._registered_versions(connection))
            if counts:
                repository.add_online_counts(connection, counts)
        for row in counts:  # only once committed: a retried transaction must not count twice
            self._windows.setdefault((row["model_version"], row["window_start"]), Tally()).update(
                {c: row[c] for c in repository.COUNTERS})
        return new_events, unknown, conflicts

    @staticmethod
    def _conflicts(connection, repeated: list[ValidEvent]) -> list[Rejected]:
        """Events whose id is already stored with other content: not a replay but two different
        events under one id (a producer bug), which must not vanish as a duplicate."""
        if not repeated:
            return []
        stored = repository.stored_events(connection, (e.event_id for e in repeated))
        conflicts = []
        for e in repeated:
            kept = stored.get(e.event_id)
            if kept is not None and kept != (e.user_id, e.item_id, e.event_type.value, float(e.value)):
                conflicts.append((e, "conflict", f"event id {e.event_id!r} is already stored for another event "
                                                 f"(user {kept[0]!r}, item {kept[1]!r}, {kept[2]})"))
        return conflicts

    def _registered_versions(self, connection) -> frozenset[str]:
        """The model registry's versions (re-read every registry_refresh_s): online metrics are kept
        only for these, since an event's model_version is whatever its producer wrote."""
        if time.monotonic() - self._registry_read_at >= self.config.registry_refresh_s:
            self._registered = frozenset(repository.registered_versions(connection))
            self._registry_read_at = time.monotonic()
        return self._registered

    def _online_counts(self, events: list[ValidEvent], registered: frozenset[str]) -> list[dict]:
        now = time.time()
        start = datetime.fromtimestamp(now - now % self.config.window_s, UTC)
        end = datetime.fromtimestamp(start.timestamp() + self.config.window_s, UTC)
        tallies: dict[str, Tally] = {}
        for e in events:
            column = ONLINE_COLUMNS.get(e.event_type)
            if e.model_version in registered and column:
                tallies.setdefault(e.model_version, Tally())[column] += 1
        rows = []
        for version, tally in tallies.items():
            rows.append({"model_version": version, "window_start": start, "window_end": end,
                         **{c: tally.get(c, 0) for c in repository.COUNTERS}})
        return rows

    def _publish_dead_letters(self, dead: list[tuple[Record, str, str]]) -> bool:
        for record, reason, message in dead:
            self.publisher.publish(self.topics.dead_letter, record.key, record.value, headers={
                "recsys.reason": reason, "recsys.error": message[:1000], "recsys.topic": record.topic,
                "recsys.partition": str(record.partition), "recsys.offset": str(record.offset)})
        self.publisher.flush(10.0)
        for _, reason, _ in dead:  # counted once the broker confirmed them (the alert reads this)
            metrics.DEAD_LETTERS.labels(reason=reason).inc()
        return True

    def publish_online_metrics(self, force: bool = False) -> None:
        """Publish this processor's share of each closed window (the table holds the exact totals)."""
        if not self._windows or (not force and time.monotonic() - self._last_publish < 1.0):
            return
        self._last_publish = time.monotonic()
        now = datetime.now(UTC)
        closed = [key for key in self._windows
                  if force or key[1].timestamp() + self.config.window_s <= now.timestamp()]
        for version, start in closed:
            tally = self._windows.pop((version, start))
            message = events_pb2.OnlineMetrics(
                model_version=version, impressions=tally["impressions"], clicks=tally["clicks"],
                add_to_carts=tally["add_to_carts"], purchases=tally["purchases"],
                ctr=tally["clicks"] / tally["impressions"] if tally["impressions"] else 0.0)
            message.window_start.FromDatetime(start)
            message.window_end.FromSeconds(int(start.timestamp()) + self.config.window_s)
            self.publisher.publish(self.topics.online_metrics, version.encode(), message.SerializeToString())

    def _retry(self, step: str, action: Callable, records: list[Record], stop: threading.Event | None):
        """Run ``action`` until it succeeds, backing off; partitions stay paused meanwhile."""
        delay = self.config.backoff_initial_s
        paused = False
        try:
            while True:
                try:
                    return action()
                except (OperationalError, DBAPIError, BusError) as exc:
                    if isinstance(exc, DBAPIError) and not exc.connection_invalidated \
                            and not isinstance(exc, OperationalError):
                        raise  # a constraint or programming error would fail forever: surface it
                    metrics.RETRIES.labels(step).inc()
                    log.warning("%s failed, retrying in %.1f s: %s", step, delay, str(exc).splitlines()[0])
                    if not paused:
                        self.source.pause()
                        paused = True
                    if stop is not None and stop.wait(delay):
                        return None
                    if stop is None:
                        time.sleep(delay)
                    # keep group membership alive; a rebalance may take partitions away meanwhile
                    self.source.poll(1, 0)
                    delay = min(delay * 2, self.config.backoff_max_s)
        finally:
            if paused:
                self.source.resume()

    def _account(self, result: BatchResult, new_events: list[ValidEvent], records: list[Record],
                 seconds: float) -> None:
        self.totals.stored += result.stored
        self.totals.duplicates += result.duplicates
        self.totals.dead_letters += result.dead_letters
        metrics.EVENTS.labels("stored").inc(result.stored)
        metrics.EVENTS.labels("duplicate").inc(result.duplicates)
        metrics.EVENTS.labels("dead_letter").inc(result.dead_letters)
        metrics.BATCH_SECONDS.observe(seconds)
        metrics.BATCH_SIZE.observe(len(records))
        now_ms = time.time() * 1000
        for record in records[:: max(1, len(records) // 20)]:  # a sample is enough for the histogram
            if record.timestamp_ms > 0:
                metrics.EVENT_AGE.observe(max(0.0, (now_ms - record.timestamp_ms) / 1000))
        for e in new_events:
            if e.model_version:
                # one series per registered version; anything else under one label (bounded cardinality)
                label = e.model_version if e.model_version in self._registered else UNREGISTERED
                metrics.ONLINE_EVENTS.labels(label, e.event_type.value).inc()
