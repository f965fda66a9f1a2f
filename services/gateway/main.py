"""`recsys serve gateway`: RecommendationService in front of the three backends."""

from __future__ import annotations

import asyncio

from core.traffic_split import TrafficSplit, load_split
from recsys.v1 import recommendation_service_pb2 as pb
from recsys.v1 import recommendation_service_pb2_grpc as pb_grpc
from services.common import event_loop
from services.common.server import GrpcServer, ServiceBinding, serve_model
from services.common.tracing import configure_tracing
from services.gateway.catalogue import Catalogue
from services.gateway.servicer import RecommendationServicer
from services.gateway.settings import GatewaySettings
from services.gateway.split import watch_split
from services.gateway.store_reader import StoreReader
from telemetry.setup import configure_logging

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["RecommendationService"].full_name


def initial_split(settings: GatewaySettings) -> TrafficSplit:
    if settings.traffic_split is not None:
        return load_split(settings.traffic_split)
    return TrafficSplit.single("default", settings.embedding_addr, settings.retrieval_addr, settings.scoring_addr)


def build_server(settings: GatewaySettings) -> tuple[GrpcServer, RecommendationServicer]:
    history = StoreReader(settings.database_url) if settings.database_url else None
    servicer = RecommendationServicer(settings, initial_split(settings), history)
    binding = ServiceBinding(SERVICE_NAME, lambda s: pb_grpc.add_RecommendationServiceServicer_to_server(servicer, s))
    return GrpcServer([binding], settings.address, settings.grace_seconds,
                      settings.drain_seconds, security=settings.security,
                      max_connection_age_s=settings.max_connection_age_seconds), servicer


async def serve(settings: GatewaySettings) -> None:
    server, servicer = build_server(settings)
    watcher = None
    if settings.traffic_split is not None:
        watcher = asyncio.create_task(watch_split(settings.traffic_split, servicer.set_split,
                                                  settings.split_reload_seconds))
    try:
        await serve_model(server, settings.artifact, Catalogue.from_artifact, servicer.load, settings.metrics_port,
                          settings.reload_seconds, gc_freeze=settings.gc_freeze)
    finally:
        if watcher:
            watcher.cancel()
        await servicer.close()


def main(settings: GatewaySettings) -> None:
    configure_logging(settings.log_level)
    configure_tracing("gateway", {"RECSYS_TRACES": settings.traces})
    event_loop.run(serve(settings), settings.event_loop)
