"""The serving-levers benchmark reads from the server's /metrics port its full garbage collections
during a load run (how many, their mean, a bound on the longest) and its Recommend handlers' mean
time."""

from __future__ import annotations

import gc

from benchmarks.serving_levers import handler_mean_ms_between, pauses_between, server_counters
from services.common.metrics import RPC_DURATION
from telemetry.setup import start_metrics_server


def test_full_collections_between_two_scrapes_are_counted():
    port = start_metrics_server(0, host="127.0.0.1")
    before = server_counters(port)
    for _ in range(4):
        gc.collect(2)
    after = server_counters(port)
    pauses = pauses_between(before, after)
    assert pauses["gc2_passes"] >= 4
    assert pauses["gc2_mean_ms"] > 0
    assert pauses["gc2_longest_at_most_ms"] >= pauses["gc2_mean_ms"]
    assert pauses_between(after, after) == {"gc2_passes": 0.0, "gc2_mean_ms": 0.0, "gc2_longest_at_most_ms": 0.0}


def test_the_handlers_mean_time_between_two_scrapes():
    port = start_metrics_server(0, host="127.0.0.1")
    before = server_counters(port)
    for seconds in (0.010, 0.030, 0.020):
        RPC_DURATION.labels("RecommendationService", "Recommend", "OK").observe(seconds)
    RPC_DURATION.labels("RecommendationService", "Recommend", "UNAVAILABLE").observe(5.0)  # failed calls: not counted
    after = server_counters(port)
    assert abs(handler_mean_ms_between(before, after) - 20.0) < 1e-6
    assert handler_mean_ms_between(after, after) is None
