"""`recsys serve retrieval`: load a LightGCN artifact's item vectors and serve RetrievalService."""

from __future__ import annotations

from pathlib import Path

from core.artifact import open_artifact
from recsys.v1 import retrieval_service_pb2 as pb
from recsys.v1 import retrieval_service_pb2_grpc as pb_grpc
from services.common import event_loop
from services.common.server import GrpcServer, ServiceBinding, serve_model
from services.common.settings import ServiceSettings
from services.common.tracing import configure_tracing
from services.retrieval.index import ItemIndex
from services.retrieval.precomputed import PrecomputedCandidates
from services.retrieval.retriever import Retriever
from services.retrieval.servicer import RetrievalServicer
from telemetry.setup import configure_logging

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["RetrievalService"].full_name


def load_index(artifact: Path) -> tuple[ItemIndex, str]:
    """The item matrix (LightGCN's final item embeddings), popularity and catalogue of an artifact."""
    stored = open_artifact(artifact, needs=("embeddings",))
    users, items = stored.embeddings()
    index = ItemIndex(stored.item_ids, items, stored.seen.popularity, stored.products())
    if stored.has("candidates"):  # rows ranked by each trained user's query vector, as the embedding service sends it
        queries = stored.query_vectors((users, items))
        index.precomputed = PrecomputedCandidates(stored.user_ids, queries, stored.candidates(), stored.seen,
                                                  index.vectors.numpy())
    return index, stored.version


def build_server(settings: ServiceSettings) -> tuple[GrpcServer, Retriever]:
    """The gRPC server and the retriever it serves (load a model into it to start answering)."""
    retriever = Retriever(max_candidates=settings.max_candidates)
    servicer = RetrievalServicer(retriever)
    binding = ServiceBinding(SERVICE_NAME, lambda s: pb_grpc.add_RetrievalServiceServicer_to_server(servicer, s))
    return GrpcServer([binding], settings.address, settings.grace_seconds,
                      settings.drain_seconds, security=settings.security,
                      max_connection_age_s=settings.max_connection_age_seconds), retriever


async def serve(settings: ServiceSettings) -> None:
    server, retriever = build_server(settings)
    await serve_model(server, settings.artifact, load_index, lambda loaded: retriever.load(*loaded),
                      settings.metrics_port, settings.reload_seconds, gc_freeze=settings.gc_freeze)


def main(settings: ServiceSettings) -> None:
    configure_logging(settings.log_level)
    configure_tracing("retrieval", {"RECSYS_TRACES": settings.traces})
    event_loop.run(serve(settings), settings.event_loop)
