"""`recsys serve gateway`: RecommendationService in front of the three backends."""

from __future__ import annotations

import asyncio

from recsys.v1 import recommendation_service_pb2 as pb
from recsys.v1 import recommendation_service_pb2_grpc as pb_grpc
from services.common.server import GrpcServer, ServiceBinding, serve_model
from services.common.tracing import configure_tracing
from services.common.settings import configure_logging
from services.gateway.catalogue import Catalogue
from services.gateway.servicer import Backends, RecommendationServicer
from services.gateway.settings import GatewaySettings

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["RecommendationService"].full_name


def build_server(settings: GatewaySettings) -> tuple[GrpcServer, RecommendationServicer]:
    servicer = RecommendationServicer(settings, Backends(settings))
    binding = ServiceBinding(SERVICE_NAME, lambda s: pb_grpc.add_RecommendationServiceServicer_to_server(servicer, s))
    return GrpcServer([binding], settings.address, settings.grace_seconds), servicer


async def serve(settings: GatewaySettings) -> None:
    server, servicer = build_server(settings)
    try:
        await serve_model(server, settings.artifact, Catalogue.from_artifact, servicer.load, settings.metrics_port,
                          settings.reload_seconds)
    finally:
        await servicer.backends.close()


def main(settings: GatewaySettings) -> None:
    configure_logging(settings.log_level)
    configure_tracing("gateway")
    asyncio.run(serve(settings))
