"""`recsys stream`: the stream processor as a process (settings: stream/settings.py).

SIGTERM finishes the batch in hand (stored and committed), then leaves the group and exits.
"""

from __future__ import annotations

import logging
import signal
import threading

from stream.processor import StreamProcessor
from stream.settings import StreamSettings
from telemetry.setup import configure_logging

log = logging.getLogger(__name__)


def main(settings: StreamSettings) -> None:
    from events.kafka_bus import KafkaPublisher, KafkaSource
    from store.db import make_engine
    from stream.metrics import record_kafka_stats
    from telemetry.setup import start_metrics_server

    configure_logging(settings.log_level)
    port = start_metrics_server(settings.metrics_port, tls=settings.security)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    engine = make_engine(settings.database_url, pool_size=2)
    consumer_config: dict[str, object] = {"session.timeout.ms": settings.session_timeout_ms,
                                          **settings.kafka_tls.client_config()}
    if settings.instance_id:
        consumer_config["group.instance.id"] = settings.instance_id
    source = KafkaSource(settings.bootstrap, settings.topics.events, settings.group, on_stats=record_kafka_stats,
                         **consumer_config)
    publisher = KafkaPublisher(settings.bootstrap, **settings.kafka_tls.client_config())
    processor = StreamProcessor(source, publisher, engine, settings.topics, settings.processor)
    log.info("stream processor: group %s on %s, store %s, metrics on :%d", settings.group, settings.bootstrap,
             engine.url.render_as_string(hide_password=True), port)
    try:
        processor.run(stop)
    finally:
        publisher.close()
        source.close()
        engine.dispose()
        log.info("stream processor stopped: %s", processor.totals)
