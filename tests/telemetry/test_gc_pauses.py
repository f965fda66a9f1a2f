"""recsys_gc_pause_seconds: every garbage collection's pause lands in its generation's histogram,
the buckets are cumulative (le), and the /metrics port serves it."""

from __future__ import annotations

import gc
import re
import urllib.request

from prometheus_client import REGISTRY

from telemetry.gc_pauses import BUCKETS_S, CollectorPauses, observe_gc_pauses
from telemetry.setup import start_metrics_server


def _samples(name: str, generation: str) -> dict[str, float]:
    """le (or "sum"/"count") -> value of one generation's series in the default registry."""
    found: dict[str, float] = {}
    for family in REGISTRY.collect():
        for sample in family.samples:
            if sample.name.startswith(name) and sample.labels.get("generation") == generation:
                found[sample.labels.get("le", sample.name.rsplit("_", 1)[-1])] = sample.value
    return found


def test_each_collection_is_counted_in_its_generation():
    observe_gc_pauses()
    before = _samples("recsys_gc_pause_seconds", "2")
    for _ in range(3):
        gc.collect(2)
    after = _samples("recsys_gc_pause_seconds", "2")
    assert after["count"] - before.get("count", 0) >= 3
    assert after["sum"] > before.get("sum", 0)
    bounds = [str(b) for b in BUCKETS_S] + ["+Inf"]
    cumulative = [after[b] for b in bounds]
    assert cumulative == sorted(cumulative) and cumulative[-1] == after["count"]


def test_a_pause_lands_in_the_smallest_bucket_that_holds_it():
    now = [0.0]
    pauses = CollectorPauses(clock=lambda: now[0])
    for seconds in (0.0004, 0.003, 0.3, 7.0):
        pauses.on_collection("start", {"generation": 2})
        now[0] += seconds
        pauses.on_collection("stop", {"generation": 2})
    counts = pauses.counts[2]
    assert counts[BUCKETS_S.index(0.0005)] == 1 and counts[BUCKETS_S.index(0.005)] == 1
    assert counts[BUCKETS_S.index(0.5)] == 1 and counts[-1] == 1  # 7 s: past the last bound, +Inf only
    assert sum(counts) == 4 and sum(pauses.counts[0]) == 0
    assert abs(pauses.sums[2] - 7.3034) < 1e-9


def test_the_metrics_port_serves_the_histogram():
    port = start_metrics_server(0, host="127.0.0.1")
    gc.collect()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    assert re.search(r'recsys_gc_pause_seconds_bucket\{generation="2",le="\+Inf"\} [1-9]', text)
    assert 'recsys_gc_pause_seconds_count{generation="0"}' in text
