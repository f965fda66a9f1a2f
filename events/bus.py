"""What the stream processor needs from a message bus, so Kafka and the in-process bus are
interchangeable (the embedded default runs without a broker)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from core.settings import Setting


@dataclass(frozen=True, slots=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp_ms: int = 0


@dataclass(frozen=True)
class Topics:
    events: str = "recsys.user-events"
    dead_letter: str = "recsys.user-events.dlq"
    online_metrics: str = "recsys.online-metrics"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Topics:
        env = os.environ if env is None else env
        return cls(env.get("RECSYS_EVENTS_TOPIC", cls.events), env.get("RECSYS_DLQ_TOPIC", cls.dead_letter),
                   env.get("RECSYS_ONLINE_METRICS_TOPIC", cls.online_metrics))


TOPIC_SETTINGS = (
    Setting("RECSYS_EVENTS_TOPIC", Topics.events, "topic of user events"),
    Setting("RECSYS_DLQ_TOPIC", Topics.dead_letter,
            "dead-letter topic (events that failed validation, with the reason)"),
    Setting("RECSYS_ONLINE_METRICS_TOPIC", Topics.online_metrics, "topic of online metrics windows"),
)


class BusError(ConnectionError):
    """The bus did not accept or confirm something (broker away); the caller retries."""


class TopicMissing(BusError):
    """The broker answers but has no such topic (yet): there is nothing to read."""


class EventSource(Protocol):
    """A consumer-group member's view of the events topic."""

    def poll(self, max_records: int, timeout_s: float) -> list[Record]:
        """Up to ``max_records`` records, waiting at most ``timeout_s`` for the first."""

    def commit(self, records: list[Record]) -> None:
        """Mark everything up to and including these records as processed (raises BusError)."""

    def pause(self) -> None:
        """Stop fetching (while the database is away) but keep group membership alive."""

    def resume(self) -> None: ...

    def owns(self, record: Record) -> bool:
        """Whether this member still owns the record's partition (after a rebalance it may not)."""

    def close(self) -> None: ...


class TopicReader(Protocol):
    """Every partition of a topic from a point in time on, outside any consumer group: each reader
    sees every record (one per serving replica), and nothing is committed."""

    def poll(self, max_records: int, timeout_s: float) -> list[Record]:
        """Up to ``max_records`` records, waiting at most ``timeout_s`` for the first."""

    def caught_up(self) -> bool:
        """Whether every record that was in the topic when the reader started has been returned."""

    def close(self) -> None: ...


class Publisher(Protocol):
    def publish(self, topic: str, key: bytes | None, value: bytes | None,
                headers: dict[str, str] | None = None) -> None: ...

    def flush(self, timeout_s: float) -> None:
        """Wait until everything published so far is acknowledged (raises BusError)."""

    def close(self) -> None: ...
