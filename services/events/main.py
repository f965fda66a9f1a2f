"""`recsys stream`: the stream processor as a process.

| variable | default | meaning |
|---|---|---|
| RECSYS_KAFKA_BOOTSTRAP | (required) | Kafka bootstrap servers |
| RECSYS_DATABASE_URL | sqlite:///artifacts/recsys.db | the store (postgresql://... in production) |
| RECSYS_EMBEDDING_ADDR | (unset: no updates) | embedding service to tell about new interactions |
| RECSYS_STREAM_GROUP | recsys-stream | consumer group |
| RECSYS_KAFKA_SESSION_TIMEOUT_MS | 10000 | how soon the group notices a dead member (its partitions move on) |
| RECSYS_STREAM_INSTANCE_ID | (unset) | static group membership: a restart under the same id gets its partitions back at once |
| RECSYS_STREAM_MAX_BATCH | 5000 | most records per batch (one transaction) |
| RECSYS_STREAM_POLL_MS | 50 | longest wait for a first record (then the batch takes what is already fetched) |
| RECSYS_MAX_EVENT_BYTES | 16384 | larger events go to the dead-letter topic |
| RECSYS_ONLINE_WINDOW_SECONDS | 10 | online metrics window |
| RECSYS_EVENTS_TOPIC / RECSYS_DLQ_TOPIC / RECSYS_ONLINE_METRICS_TOPIC | recsys.user-events / recsys.user-events.dlq / recsys.online-metrics | topic names |
| RECSYS_METRICS_PORT | 9095 | Prometheus /metrics port |
| RECSYS_LOG_LEVEL | INFO | logging level |

SIGTERM finishes the batch in hand (stored and committed), then leaves the group and exits.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from services.common.settings import SettingsError, configure_logging, env_int
from services.events.bus import Topics
from services.events.processor import ProcessorConfig, StreamProcessor

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StreamSettings:
    bootstrap: str
    database_url: str
    embedding_addr: str | None
    group: str
    session_timeout_ms: int
    instance_id: str | None
    topics: Topics
    processor: ProcessorConfig
    metrics_port: int
    log_level: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "StreamSettings":
        env = os.environ if env is None else env
        bootstrap = env.get("RECSYS_KAFKA_BOOTSTRAP", "")
        if not bootstrap:
            raise SettingsError("RECSYS_KAFKA_BOOTSTRAP must name the Kafka bootstrap servers (host:port)")
        from services.store.db import database_url

        return cls(
            bootstrap=bootstrap,
            database_url=database_url(env.get("RECSYS_DATABASE_URL")),
            embedding_addr=env.get("RECSYS_EMBEDDING_ADDR") or None,
            group=env.get("RECSYS_STREAM_GROUP", "recsys-stream"),
            session_timeout_ms=env_int(env, "RECSYS_KAFKA_SESSION_TIMEOUT_MS", 10000, minimum=1000),
            instance_id=env.get("RECSYS_STREAM_INSTANCE_ID") or None,
            topics=Topics.from_env(),
            processor=ProcessorConfig(
                max_batch=env_int(env, "RECSYS_STREAM_MAX_BATCH", 5000, minimum=1),
                poll_timeout_s=env_int(env, "RECSYS_STREAM_POLL_MS", 50, minimum=1) / 1000,
                max_event_bytes=env_int(env, "RECSYS_MAX_EVENT_BYTES", 16384, minimum=64),
                window_s=env_int(env, "RECSYS_ONLINE_WINDOW_SECONDS", 10, minimum=1)),
            metrics_port=env_int(env, "RECSYS_METRICS_PORT", 9095, minimum=0),
            log_level=env.get("RECSYS_LOG_LEVEL", "INFO").upper(),
        )


def main(settings: StreamSettings) -> None:
    from services.common.metrics import start_metrics_server
    from services.events.kafka_bus import KafkaPublisher, KafkaSource
    from services.events.metrics import record_kafka_stats
    from services.events.notifier import EmbeddingNotifier
    from services.store.db import make_engine

    configure_logging(settings.log_level)
    port = start_metrics_server(settings.metrics_port)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    engine = make_engine(settings.database_url, pool_size=2)
    membership = {"session.timeout.ms": settings.session_timeout_ms}
    if settings.instance_id:
        membership["group.instance.id"] = settings.instance_id
    source = KafkaSource(settings.bootstrap, settings.topics.events, settings.group, on_stats=record_kafka_stats,
                         **membership)
    publisher = KafkaPublisher(settings.bootstrap)
    notifier = EmbeddingNotifier(settings.embedding_addr) if settings.embedding_addr else None
    processor = StreamProcessor(source, publisher, engine, settings.topics, settings.processor,
                                notify=notifier.notify if notifier else None)
    log.info("stream processor: group %s on %s, store %s, metrics on :%d", settings.group, settings.bootstrap,
             engine.url.render_as_string(hide_password=True), port)
    try:
        processor.run(stop)
    finally:
        if notifier is not None:
            notifier.close()
        publisher.close()
        source.close()
        engine.dispose()
        log.info("stream processor stopped: %s", processor.totals)
