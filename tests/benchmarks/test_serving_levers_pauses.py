"""The serving-levers benchmark reads the server's full garbage collections from its /metrics
port: how many happened during a load run, their mean, and a bound on the longest."""

from __future__ import annotations

import gc

from benchmarks.serving_levers import full_collections, pauses_between
from telemetry.setup import start_metrics_server


def test_full_collections_between_two_scrapes_are_counted():
    port = start_metrics_server(0, host="127.0.0.1")
    before = full_collections(port)
    for _ in range(4):
        gc.collect(2)
    after = full_collections(port)
    pauses = pauses_between(before, after)
    assert pauses["gc2_passes"] >= 4
    assert pauses["gc2_mean_ms"] > 0
    assert pauses["gc2_longest_at_most_ms"] >= pauses["gc2_mean_ms"]
    assert pauses_between(after, after) == {"gc2_passes": 0.0, "gc2_mean_ms": 0.0, "gc2_longest_at_most_ms": 0.0}
