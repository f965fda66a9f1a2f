"""ScoringService on a real gRPC server over loopback."""

from __future__ import annotations

import math

import grpc
import numpy as np
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from servers import ServerThread

from core.errors import ArtifactError
from models.loaded import load_model
from recsys.v1 import scoring_service_pb2 as pb
from recsys.v1 import scoring_service_pb2_grpc as pb_grpc
from services.common.settings import ServiceSettings
from services.scoring.main import SERVICE_NAME, build_server, load_scorer


@pytest.fixture(scope="module")
def service(publish):
    artifact = publish("neumf", "n1")
    settings = ServiceSettings.from_env("scoring", {"RECSYS_ARTIFACT": str(artifact), "RECSYS_HOST": "127.0.0.1",
                                                    "RECSYS_PORT": "0", "RECSYS_MAX_CANDIDATES": "100"})
    server_obj, servicer = build_server(settings)
    server = ServerThread(server_obj)
    stub = pb_grpc.ScoringServiceStub(server.channel)
    with pytest.raises(grpc.RpcError) as early:
        stub.Score(pb.ScoreRequest(user_id="U0000001", item_ids=["P0000001"]), timeout=5)
    servicer.load(load_scorer(artifact))
    server.call(server_obj.mark_serving())
    yield {"stub": stub, "model": load_model(artifact), "early": early.value, "channel": server.channel}
    server.close()


def test_unavailable_until_the_model_is_loaded_then_serving(service):
    assert service["early"].code() == grpc.StatusCode.UNAVAILABLE
    health = health_pb2_grpc.HealthStub(service["channel"])
    assert (health.Check(health_pb2.HealthCheckRequest(service=SERVICE_NAME)).status
            == health_pb2.HealthCheckResponse.SERVING)


def test_scores_match_the_artifact_and_flag_unknown_items(service):
    model = service["model"]
    user = model.user_ids[3]
    items = model.item_ids[:40] + ["no-such-item"]
    response = service["stub"].Score(pb.ScoreRequest(user_id=user, item_ids=items), timeout=5)
    expected = [score for _, score in model.score(user, model.item_ids[:40])]
    assert np.allclose(response.scores[:40], expected, atol=1e-5)
    assert math.isnan(response.scores[40]) and response.user_known and response.model_version == "n1"


def test_unknown_user_gets_popularity_scores(service):
    model = service["model"]
    items = model.item_ids[:10]
    response = service["stub"].Score(pb.ScoreRequest(user_id="brand-new-user", item_ids=items), timeout=5)
    assert not response.user_known
    assert np.allclose(response.scores, np.log1p(model.popularity[:10]), atol=1e-5)


@pytest.mark.parametrize("kwargs,message", [
    ({"user_id": "", "item_ids": ["P0000001"]}, "user_id must not be empty"),
    ({"user_id": "u" * 129, "item_ids": ["P0000001"]}, "at most 128 characters"),
    ({"user_id": "U0000001", "item_ids": []}, "item_ids must not be empty"),
    ({"user_id": "U0000001", "item_ids": ["P0000001"] * 101}, "at most 100 are allowed"),
    ({"user_id": "U0000001", "item_ids": ["P0000001"], "model_version": "old"}, "not served"),
])
def test_bad_requests_are_invalid_argument(service, kwargs, message):
    with pytest.raises(grpc.RpcError) as error:
        service["stub"].Score(pb.ScoreRequest(**kwargs), timeout=5)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT and message in error.value.details()


def test_scoring_refuses_a_lightgcn_artifact(publish):
    artifact = publish("lightgcn", "l1")
    with pytest.raises(ArtifactError, match="scoring serves"):
        load_scorer(artifact)
