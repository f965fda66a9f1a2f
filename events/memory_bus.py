"""An in-process bus with Kafka's semantics where the processor relies on them: partitioned by key,
ordered per partition, committed offsets per group. For the embedded default and unit tests."""

from __future__ import annotations

import threading
import time
import zlib
from collections import defaultdict

from events.bus import Record


class InProcessBus:
    def __init__(self, partitions: int = 4) -> None:
        self.partitions = partitions
        self._logs: dict[tuple[str, int], list[Record]] = defaultdict(list)
        self._headers: dict[tuple[str, int, int], dict[str, str]] = {}
        self._committed: dict[tuple[str, str, int], int] = {}
        self._changed = threading.Condition()

    def publisher(self) -> InProcessPublisher:
        return InProcessPublisher(self)

    def source(self, topic: str, group: str) -> InProcessSource:
        return InProcessSource(self, topic, group)

    def reader(self, topic: str, since_ms: int = 0) -> InProcessReader:
        return InProcessReader(self, topic, since_ms)

    def append(self, topic: str, key: bytes | None, value: bytes | None, headers: dict[str, str] | None) -> None:
        partition = zlib.crc32(key) % self.partitions if key is not None else 0
        with self._changed:
            log = self._logs[(topic, partition)]
            log.append(Record(topic, partition, len(log), key, value, int(time.time() * 1000)))
            if headers:
                self._headers[(topic, partition, len(log) - 1)] = dict(headers)
            self._changed.notify_all()

    def records(self, topic: str) -> list[Record]:
        with self._changed:
            return [r for p in range(self.partitions) for r in self._logs.get((topic, p), [])]

    def headers(self, record: Record) -> dict[str, str]:
        return self._headers.get((record.topic, record.partition, record.offset), {})

    def committed(self, group: str, topic: str) -> dict[int, int]:
        with self._changed:
            return {p: self._committed.get((group, topic, p), 0) for p in range(self.partitions)}


class InProcessPublisher:
    def __init__(self, bus: InProcessBus) -> None:
        self.bus = bus

    def publish(self, topic: str, key: bytes | None, value: bytes | None,
                headers: dict[str, str] | None = None) -> None:
        self.bus.append(topic, key, value, headers)

    def flush(self, timeout_s: float) -> None:
        return None

    def close(self) -> None:
        return None


class InProcessSource:
    """The only member of its group: owns every partition, starts at the committed offsets."""

    def __init__(self, bus: InProcessBus, topic: str, group: str) -> None:
        self.bus, self.topic, self.group = bus, topic, group
        self._position = bus.committed(group, topic)
        self._paused = False

    def poll(self, max_records: int, timeout_s: float) -> list[Record]:
        deadline = time.monotonic() + timeout_s
        with self.bus._changed:
            while True:
                out: list[Record] = []
                if not self._paused:
                    for p in range(self.bus.partitions):
                        log = self.bus._logs.get((self.topic, p), [])
                        take = log[self._position[p]:self._position[p] + max_records - len(out)]
                        out.extend(take)
                        self._position[p] += len(take)
                if out:
                    return out
                left = deadline - time.monotonic()
                if left <= 0:
                    return []
                self.bus._changed.wait(left)

    def commit(self, records: list[Record]) -> None:
        with self.bus._changed:
            for r in records:
                key = (self.group, r.topic, r.partition)
                self.bus._committed[key] = max(self.bus._committed.get(key, 0), r.offset + 1)

    def pause(self) -> None:
        self._paused = True

    def resume(self) -> None:
        self._paused = False

    def owns(self, record: Record) -> bool:
        return True

    def close(self) -> None:
        return None


class InProcessReader:
    """Every partition from the first record stamped at or after ``since_ms``; no group, no commits."""

    def __init__(self, bus: InProcessBus, topic: str, since_ms: int) -> None:
        self.bus, self.topic = bus, topic
        with bus._changed:
            logs = [bus._logs.get((topic, p), []) for p in range(bus.partitions)]
            self._position = [next((r.offset for r in log if r.timestamp_ms >= since_ms), len(log)) for log in logs]
            self._end_at_start = [len(log) for log in logs]

    def poll(self, max_records: int, timeout_s: float) -> list[Record]:
        deadline = time.monotonic() + timeout_s
        with self.bus._changed:
            while True:
                out: list[Record] = []
                for p in range(self.bus.partitions):
                    log = self.bus._logs.get((self.topic, p), [])
                    take = log[self._position[p]:self._position[p] + max_records - len(out)]
                    out.extend(take)
                    self._position[p] += len(take)
                left = deadline - time.monotonic()
                if out or left <= 0:
                    return out
                self.bus._changed.wait(left)

    def caught_up(self) -> bool:
        return all(position >= end for position, end in zip(self._position, self._end_at_start))

    def close(self) -> None:
        return None
