"""The stream processor's tuning, apart from the processor itself so that reading settings (and
`recsys --help`) does not load the database stack."""

from __future__ import annotations

from dataclasses import dataclass

from events.codec import MAX_EVENT_BYTES


@dataclass
class ProcessorConfig:
    max_batch: int = 5000
    poll_timeout_s: float = 0.05
    max_event_bytes: int = MAX_EVENT_BYTES
    window_s: int = 10  # online metrics window (processing time)
    backoff_initial_s: float = 0.1
    backoff_max_s: float = 5.0
    registry_refresh_s: float = 10.0  # how stale the list of registered model versions may be
