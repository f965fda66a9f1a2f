"""`recsys serve retrieval`: load a LightGCN artifact's item vectors and serve RetrievalService."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np

from recsys.v1 import retrieval_service_pb2 as pb
from recsys.v1 import retrieval_service_pb2_grpc as pb_grpc
from services.common.artifact import read_catalog, read_manifest
from services.common.server import GrpcServer, ServiceBinding, serve_model
from services.common.tracing import configure_tracing
from services.common.settings import ServiceSettings, configure_logging
from services.retrieval.index import ItemIndex
from services.retrieval.servicer import RetrievalServicer

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["RetrievalService"].full_name


def load_index(artifact: Path) -> tuple[ItemIndex, str]:
    """The item matrix (LightGCN's final item embeddings), popularity and catalogue of an artifact."""
    manifest = read_manifest(artifact, needs=("embeddings",))
    files = manifest["files"]
    items = np.load(artifact / files["embeddings"])["item"]
    item_ids = json.loads((artifact / files["item_ids"]).read_text())
    popularity = np.load(artifact / files["seen"])["popularity"]
    return ItemIndex(item_ids, items, popularity, read_catalog(artifact, manifest)), str(manifest["version"])


def build_server(settings: ServiceSettings) -> tuple[GrpcServer, RetrievalServicer]:
    servicer = RetrievalServicer(max_candidates=settings.max_candidates)
    binding = ServiceBinding(SERVICE_NAME, lambda s: pb_grpc.add_RetrievalServiceServicer_to_server(servicer, s))
    return GrpcServer([binding], settings.address, settings.grace_seconds,
                      settings.drain_seconds), servicer


async def serve(settings: ServiceSettings) -> None:
    server, servicer = build_server(settings)
    await serve_model(server, settings.artifact, load_index, lambda loaded: servicer.load(*loaded),
                      settings.metrics_port, settings.reload_seconds)


def main(settings: ServiceSettings) -> None:
    configure_logging(settings.log_level)
    configure_tracing("retrieval")
    asyncio.run(serve(settings))
