"""Prometheus metrics of the stream processor."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS = Counter("recsys_stream_events_total", "Events consumed, by outcome", ["outcome"])
DEAD_LETTERS = Counter("recsys_stream_dead_letters_total", "Events sent to the dead-letter topic, by reason",
                       ["reason"])
BATCH_SECONDS = Histogram("recsys_stream_batch_seconds", "Time to store and commit one batch",
                          buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
BATCH_SIZE = Histogram("recsys_stream_batch_size", "Records per batch",
                       buckets=(1, 10, 50, 100, 500, 1000, 2000, 5000, 10000))
RETRIES = Counter("recsys_stream_retries_total", "Retried steps (database or broker away), by step", ["step"])
CONSUMER_LAG = Gauge("recsys_stream_consumer_lag", "Records behind the partition's end", ["topic", "partition"])
ONLINE_EVENTS = Counter("recsys_stream_online_events_total", "New events attributed to a model version",
                        ["model_version", "event_type"])
EVENT_AGE = Histogram("recsys_stream_event_age_seconds", "From the event's broker timestamp to its commit",
                      buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))


def record_kafka_stats(stats: dict) -> None:
    """librdkafka's statistics callback: per-partition consumer lag."""
    for topic, info in stats.get("topics", {}).items():
        for partition, p in info.get("partitions", {}).items():
            if partition == "-1" or p.get("consumer_lag", -1) < 0:
                continue
            CONSUMER_LAG.labels(topic, partition).set(p["consumer_lag"])
