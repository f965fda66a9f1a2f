"""`recsys serve scoring`: load an NCF artifact (NeuMF, GMF, MLP or MF) and serve ScoringService."""

from __future__ import annotations

from pathlib import Path

from core.errors import ArtifactError
from models.loaded import LoadedModel, load_model
from recsys.v1 import scoring_service_pb2 as pb
from recsys.v1 import scoring_service_pb2_grpc as pb_grpc
from services.common import event_loop
from services.common.server import GrpcServer, ServiceBinding, serve_model
from services.common.settings import ServiceSettings
from services.common.tracing import configure_tracing
from services.scoring.scorer import Scorer
from services.scoring.servicer import ScoringServicer
from telemetry.setup import configure_logging

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["ScoringService"].full_name
SCORING_MODELS = ("neumf", "gmf", "mlp", "mf")


def load_scorer(artifact: Path) -> LoadedModel:
    model = load_model(artifact)
    if model.manifest["model_type"] not in SCORING_MODELS:
        raise ArtifactError(f"{artifact} holds a '{model.manifest['model_type']}' model; scoring serves "
                             f"{', '.join(SCORING_MODELS)}")
    return model


def build_server(settings: ServiceSettings) -> tuple[GrpcServer, Scorer]:
    """The gRPC server and the scorer it serves (load a model into it to start answering)."""
    scorer = Scorer(max_items=settings.max_candidates)
    servicer = ScoringServicer(scorer)
    binding = ServiceBinding(SERVICE_NAME, lambda s: pb_grpc.add_ScoringServiceServicer_to_server(servicer, s))
    return GrpcServer([binding], settings.address, settings.grace_seconds,
                      settings.drain_seconds, security=settings.security,
                      max_connection_age_s=settings.max_connection_age_seconds), scorer


async def serve(settings: ServiceSettings) -> None:
    server, scorer = build_server(settings)
    await serve_model(server, settings.artifact, load_scorer, scorer.load, settings.metrics_port,
                      settings.reload_seconds, gc_freeze=settings.gc_freeze)


def main(settings: ServiceSettings) -> None:
    configure_logging(settings.log_level)
    configure_tracing("scoring", {"RECSYS_TRACES": settings.traces})
    event_loop.run(serve(settings), settings.event_loop)
