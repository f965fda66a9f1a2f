"""The operator's liveness for /livez on its metrics port (HTTPS with TLS), in place of kopf's own
endpoint, which speaks plain HTTP only: a task on kopf's event loop beats every few seconds, and a
stale beat means the loop no longer runs tasks (blocked or dead), so the kubelet restarts the pod."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class LoopHeartbeat:
    def __init__(self, interval_s: float = 5.0, stale_after_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.interval_s, self.stale_after_s, self._clock = interval_s, stale_after_s, clock
        self.last_beat = clock()  # a starting loop gets the same grace as a running one

    async def run(self) -> None:
        while True:
            self.last_beat = self._clock()
            await asyncio.sleep(self.interval_s)

    def problem(self) -> str | None:
        """None while the beat is recent, else what /livez says."""
        age = self._clock() - self.last_beat
        if age <= self.stale_after_s:
            return None
        return f"the operator's event loop has not run a task for {age:.0f} s"
