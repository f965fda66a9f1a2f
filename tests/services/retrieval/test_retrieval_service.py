"""RetrievalService on a real gRPC server over loopback: round trips, status codes, health,
reflection, and SIGTERM shutdown of the real `recsys serve retrieval` process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import grpc
import numpy as np
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from servers import ServerThread, wait_until_serving

from recsys.v1 import common_pb2
from recsys.v1 import retrieval_service_pb2 as pb
from recsys.v1 import retrieval_service_pb2_grpc as pb_grpc
from services.common.settings import ServiceSettings
from services.retrieval.main import SERVICE_NAME, build_server, load_index


@pytest.fixture(scope="module")
def artifact(publish) -> Path:
    return publish("lightgcn", "v1")


@pytest.fixture(scope="module")
def service(artifact):
    settings = ServiceSettings.from_env("retrieval", {"RECSYS_ARTIFACT": str(artifact), "RECSYS_HOST": "127.0.0.1",
                                                      "RECSYS_PORT": "0", "RECSYS_MAX_CANDIDATES": "500"})
    server_obj, servicer = build_server(settings)
    server = ServerThread(server_obj)
    channel = server.channel
    health = health_pb2_grpc.HealthStub(channel)
    before = health.Check(health_pb2.HealthCheckRequest(service=SERVICE_NAME)).status
    index, version = load_index(artifact)
    servicer.load(index, version)
    server.call(server_obj.mark_serving())
    yield {"stub": pb_grpc.RetrievalServiceStub(channel), "health": health, "before": before, "index": index,
           "channel": channel}
    server.close()


def test_health_is_serving_only_after_the_model_loads(service):
    assert service["before"] == health_pb2.HealthCheckResponse.NOT_SERVING
    for name in (SERVICE_NAME, ""):
        status = service["health"].Check(health_pb2.HealthCheckRequest(service=name)).status
        assert status == health_pb2.HealthCheckResponse.SERVING


def test_reflection_lists_the_services(service):
    stub = reflection_pb2_grpc.ServerReflectionStub(service["channel"])
    responses = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
    names = {s.name for s in next(iter(responses)).list_services_response.service}
    assert {SERVICE_NAME, "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"} <= names


def test_retrieve_matches_brute_force_and_excludes(service):
    index = service["index"]
    vector = index.vectors.numpy()[:5].mean(axis=0)
    exclude = [index.item_ids[i] for i in np.argsort(-(index.vectors.numpy() @ vector))[:3]]
    response = service["stub"].Retrieve(pb.RetrieveRequest(user_vector=vector.tolist(), num_candidates=20,
                                                            exclude_item_ids=exclude), timeout=5)
    got = [c.item_id for c in response.candidates]
    scores = index.vectors.numpy() @ vector
    expected = [index.item_ids[i] for i in np.argsort(-scores) if index.item_ids[i] not in exclude][:20]
    assert got == expected and response.model_version == "v1" and not response.popularity_fallback


def test_cold_user_gets_filtered_popular_items(service):
    index = service["index"]
    some_category = next(iter(index.attributes.by_category))
    request = pb.RetrieveRequest(num_candidates=10, filters=common_pb2.Filters(categories=[some_category]))
    response = service["stub"].Retrieve(request, timeout=5)
    assert response.popularity_fallback and len(response.candidates) == 10
    members = set(index.attributes.by_category[some_category].tolist())
    assert all(index.position[c.item_id] in members for c in response.candidates)


def test_batch_retrieve(service):
    requests = [pb.RetrieveRequest(num_candidates=5), pb.RetrieveRequest(num_candidates=7)]
    response = service["stub"].BatchRetrieve(pb.BatchRetrieveRequest(requests=requests), timeout=5)
    assert [len(r.candidates) for r in response.responses] == [5, 7]


@pytest.mark.parametrize("request_kwargs,code,message", [
    ({"num_candidates": 0}, grpc.StatusCode.INVALID_ARGUMENT, "num_candidates must be in 1..500"),
    ({"num_candidates": 501}, grpc.StatusCode.INVALID_ARGUMENT, "num_candidates must be in 1..500"),
    ({"num_candidates": 5, "user_vector": [1.0, 2.0]}, grpc.StatusCode.INVALID_ARGUMENT, "dimensions"),
    ({"num_candidates": 5, "user_vector": [float("nan")] * 64}, grpc.StatusCode.INVALID_ARGUMENT, "NaN"),
    ({"num_candidates": 5, "model_version": "v9"}, grpc.StatusCode.INVALID_ARGUMENT, "not served"),
    ({"num_candidates": 5, "filters": common_pb2.Filters(min_price=10, max_price=1)},
     grpc.StatusCode.INVALID_ARGUMENT, "above max_price"),
    ({"num_candidates": 5, "exclude_item_ids": ["x" * 300]}, grpc.StatusCode.INVALID_ARGUMENT, "128 characters"),
])
def test_bad_requests_get_invalid_argument_with_a_message(service, request_kwargs, code, message):
    with pytest.raises(grpc.RpcError) as error:
        service["stub"].Retrieve(pb.RetrieveRequest(**request_kwargs), timeout=5)
    assert error.value.code() == code and message in error.value.details()


def test_empty_batch_is_rejected(service):
    with pytest.raises(grpc.RpcError) as error:
        service["stub"].BatchRetrieve(pb.BatchRetrieveRequest(), timeout=5)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.integration
def test_process_serves_then_drains_on_sigterm(artifact):
    env = {**os.environ, "RECSYS_ARTIFACT": str(artifact), "RECSYS_HOST": "127.0.0.1", "RECSYS_PORT": "0",
           "RECSYS_METRICS_PORT": "0"}
    # Port 0 would hide the port from us: take a free one first.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        env["RECSYS_PORT"] = str(sock.getsockname()[1])
    process = subprocess.Popen([sys.executable, "-m", "cli.main", "serve", "retrieval"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        address = f"127.0.0.1:{env['RECSYS_PORT']}"
        assert wait_until_serving(address, SERVICE_NAME) == health_pb2.HealthCheckResponse.SERVING
        channel = grpc.insecure_channel(address)
        reply = pb_grpc.RetrievalServiceStub(channel).Retrieve(pb.RetrieveRequest(num_candidates=3), timeout=5)
        assert len(reply.candidates) == 3
        channel.close()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
    assert "signal received" in process.stdout.read()


def test_missing_artifact_setting_is_a_clear_cli_error():
    env = dict(os.environ)
    env.pop("RECSYS_ARTIFACT", None)
    result = subprocess.run([sys.executable, "-m", "cli.main", "serve", "retrieval"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "RECSYS_ARTIFACT must name" in result.stderr


def _free_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return str(sock.getsockname()[1])


@pytest.mark.parametrize("service_name", ["retrieval", "all"])
def test_an_unreadable_artifact_is_one_clear_error_and_no_traceback(tmp_path, service_name):
    """The listeners are up when the artifact is read: they are stopped before the error is
    reported, not by the garbage collector after the event loop closed (which printed tracebacks)."""
    (tmp_path / "manifest.json").write_text("{}")
    ports = {f"RECSYS_{name}_PORT": _free_port() for name in ("GATEWAY", "RETRIEVAL", "SCORING", "EMBEDDING", "HTTP")}
    env = {**os.environ, "RECSYS_ARTIFACT": str(tmp_path), "RECSYS_SCORING_ARTIFACT": str(tmp_path),
           "RECSYS_HOST": "127.0.0.1", "RECSYS_PORT": _free_port(), "RECSYS_METRICS_PORT": "0", **ports}
    result = subprocess.run([sys.executable, "-m", "cli.main", "serve", service_name], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "recsys serve: error:" in result.stderr and "format_version" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and "never awaited" not in result.stderr, result.stderr
