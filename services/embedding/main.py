"""`recsys serve embedding`: serve a LightGCN artifact's user vectors with on-the-fly fold-in."""

from __future__ import annotations

import asyncio
import logging

from recsys.v1 import embedding_service_pb2 as pb
from recsys.v1 import embedding_service_pb2_grpc as pb_grpc
from services.common import event_loop
from services.common.server import GrpcServer, ServiceBinding, serve_model
from services.common.settings import ServiceSettings
from services.common.tracing import configure_tracing
from services.embedding.memory import container_memory_limit, foldin_user_bound
from services.embedding.servicer import EmbeddingServicer
from services.embedding.store import EmbeddingModel, RecentInteractions
from services.embedding.tail import InteractionTail, catchup_start
from services.embedding.users import UserEmbeddings
from telemetry.setup import configure_logging

log = logging.getLogger(__name__)
SERVICE_NAME = pb.DESCRIPTOR.services_by_name["EmbeddingService"].full_name


def build_server(settings: ServiceSettings) -> tuple[GrpcServer, UserEmbeddings]:
    """The gRPC server and the user embeddings it serves (load a model into them to start answering)."""
    recent = RecentInteractions()
    limit = container_memory_limit()
    recent.max_users = settings.foldin_max_users or foldin_user_bound(limit, recent.max_items_per_user)
    log.info("remembering fresh interactions of at most %d users (memory limit: %s)", recent.max_users,
             f"{limit / 2**30:.1f} GiB" if limit else "none")
    users = UserEmbeddings(recent)
    servicer = EmbeddingServicer(users)
    binding = ServiceBinding(SERVICE_NAME, lambda s: pb_grpc.add_EmbeddingServiceServicer_to_server(servicer, s))
    return GrpcServer([binding], settings.address, settings.grace_seconds,
                      settings.drain_seconds, security=settings.security,
                      max_connection_age_s=settings.max_connection_age_seconds), users


def build_tail(settings: ServiceSettings, users: UserEmbeddings) -> InteractionTail | None:
    """This replica's own reader of the events topic (None without RECSYS_KAFKA_BOOTSTRAP)."""
    if not settings.kafka_bootstrap:
        return None
    from events.kafka_bus import KafkaTopicReader

    tls = settings.kafka_tls.client_config()
    return InteractionTail(lambda since_ms: KafkaTopicReader(settings.kafka_bootstrap, settings.events_topic,
                                                             since_ms, **tls), users)


async def start_tail(tail: InteractionTail | None, model: EmbeddingModel, catchup_seconds: float) -> None:
    """Start reading at the model's data time and wait (bounded) until caught up, so a restarted
    replica answers with every interaction since its model was trained."""
    if tail is None:
        return
    tail.start(catchup_start(model.data_read_at))
    if not await tail.wait_caught_up(catchup_seconds):
        log.warning("not caught up with the events topic after %g s: serving anyway, still reading",
                    catchup_seconds)


async def serve(settings: ServiceSettings) -> None:
    server, users = build_server(settings)
    tail = build_tail(settings, users)
    try:
        await serve_model(server, settings.artifact, EmbeddingModel.from_artifact, users.load, settings.metrics_port,
                          settings.reload_seconds,
                          before_serving=lambda model: start_tail(tail, model, settings.catchup_seconds),
                          gc_freeze=settings.gc_freeze)
    finally:
        if tail is not None:
            await asyncio.to_thread(tail.stop)


def main(settings: ServiceSettings) -> None:
    configure_logging(settings.log_level)
    configure_tracing("embedding", {"RECSYS_TRACES": settings.traces})
    event_loop.run(serve(settings), settings.event_loop)
