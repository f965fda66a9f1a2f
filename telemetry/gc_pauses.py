"""``recsys_gc_pause_seconds{generation}``: how long each of Python's garbage collections stopped
the process, a histogram per generation.

A collection holds the GIL, so every call in flight waits for it; full (generation 2) passes over a
loaded model took 100 ms and more (services/common/heap.py), which shows in a server's tail latency
and nowhere else. The pauses are timed from ``gc.callbacks`` and kept in plain counters: a callback
runs wherever an allocation happens to trigger a collection, possibly while that thread holds a
metric's lock, so it must take none. The histogram is built from the counters at scrape time.
"""

from __future__ import annotations

import bisect
import gc
import time
from collections.abc import Callable, Iterator

from prometheus_client import REGISTRY
from prometheus_client.core import HistogramMetricFamily
from prometheus_client.registry import Collector

BUCKETS_S = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
GENERATIONS = (0, 1, 2)


class CollectorPauses(Collector):
    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self.clock = clock
        self.started = 0.0
        self.counts = {generation: [0] * (len(BUCKETS_S) + 1) for generation in GENERATIONS}  # last: +Inf
        self.sums = dict.fromkeys(GENERATIONS, 0.0)

    def on_collection(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self.started = self.clock()
            return
        paused = self.clock() - self.started
        generation = info["generation"]
        self.counts[generation][bisect.bisect_left(BUCKETS_S, paused)] += 1
        self.sums[generation] += paused

    def collect(self) -> Iterator[HistogramMetricFamily]:
        family = HistogramMetricFamily("recsys_gc_pause_seconds",
                                       "How long each garbage collection stopped the process", labels=["generation"])
        for generation in GENERATIONS:
            counts, cumulative, buckets = list(self.counts[generation]), 0, []
            for bound, count in zip((*map(str, BUCKETS_S), "+Inf"), counts, strict=True):
                cumulative += count
                buckets.append((bound, cumulative))
            family.add_metric([str(generation)], buckets, self.sums[generation])
        yield family


_installed: list[CollectorPauses] = []


def observe_gc_pauses() -> CollectorPauses:
    """Time every collection in this process from now on and export the histogram (once per process)."""
    if not _installed:
        pauses = CollectorPauses()
        gc.callbacks.append(pauses.on_collection)
        REGISTRY.register(pauses)
        _installed.append(pauses)
    return _installed[0]
