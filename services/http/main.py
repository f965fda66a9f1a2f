"""`recsys serve http`: the HTTP/JSON API and web interface in front of a gateway reached over
gRPC (on Kubernetes, a container beside the gateway or its own Deployment). `serve all` runs the
same app in-process instead (cli/serve_all.py)."""

from __future__ import annotations

import asyncio
import logging

from services.common import event_loop
from services.common.server import wait_for_termination
from services.common.tracing import configure_tracing
from services.http.app import create_app
from services.http.events import EventSink, KafkaSink
from services.http.gateway import GrpcGateway
from services.http.server import HttpServer
from services.http.settings import HttpSettings
from telemetry.setup import configure_logging, start_metrics_server

log = logging.getLogger(__name__)
async def serve(settings: HttpSettings) -> None:
    log.info("metrics on port %d", start_metrics_server(settings.metrics_port, tls=settings.security))
    gateway = GrpcGateway(settings.gateway, settings.security)
    events: EventSink | None = KafkaSink(settings.kafka_bootstrap, settings.events_topic,
                                         client_config=settings.kafka_tls.client_config()) \
        if settings.kafka_bootstrap else None
    server = HttpServer(create_app(gateway, events, settings.timeout_s, settings.security), settings.host,
                        settings.port, settings.grace_seconds, security=settings.security,
                        drain_delay_s=settings.drain_seconds)
    await server.start()
    try:
        await wait_for_termination()
        log.info("stopping: draining, then finishing requests in flight")
    finally:
        await server.stop()
        if events is not None:
            await asyncio.to_thread(events.close)
        await gateway.close()


def main(settings: HttpSettings) -> None:
    configure_logging(settings.log_level)
    configure_tracing("http", {"RECSYS_TRACES": settings.traces})
    event_loop.run(serve(settings), settings.event_loop)
