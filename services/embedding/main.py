"""`recsys serve embedding`: serve a LightGCN artifact's user vectors with on-the-fly fold-in."""

from __future__ import annotations

import asyncio
import logging

from recsys.v1 import embedding_service_pb2 as pb
from recsys.v1 import embedding_service_pb2_grpc as pb_grpc
from services.common.server import GrpcServer, ServiceBinding, serve_model
from services.common.settings import ServiceSettings
from services.common.tracing import configure_tracing
from services.embedding.memory import container_memory_limit, foldin_user_bound
from services.embedding.servicer import EmbeddingServicer
from services.embedding.store import EmbeddingModel, RecentInteractions
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
                      settings.drain_seconds), users


async def serve(settings: ServiceSettings) -> None:
    server, users = build_server(settings)
    await serve_model(server, settings.artifact, EmbeddingModel.from_artifact, users.load, settings.metrics_port,
                      settings.reload_seconds)


def main(settings: ServiceSettings) -> None:
    configure_logging(settings.log_level)
    configure_tracing("embedding", {"RECSYS_TRACES": settings.traces})
    asyncio.run(serve(settings))
