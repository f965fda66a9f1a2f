"""`recsys serve all` as a real process: the four services come up, Recommend answers through
all of them, and SIGTERM shuts everything down cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

import grpc
import pytest
from grpc_health.v1 import health_pb2

from servers import wait_until_serving
from recsys.v1 import common_pb2, recommendation_service_pb2 as pb, recommendation_service_pb2_grpc as pb_grpc


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def artifacts(publish):
    return {"lightgcn": publish("lightgcn", "lightgcn-all"), "neumf": publish("neumf", "neumf-all")}


def test_serve_all_answers_and_stops_on_sigterm(artifacts):
    ports = {service: _free_port() for service in ("gateway", "retrieval", "scoring", "embedding")}
    env = {**os.environ, "RECSYS_ARTIFACT": str(artifacts["lightgcn"]),
           "RECSYS_SCORING_ARTIFACT": str(artifacts["neumf"]), "RECSYS_HOST": "127.0.0.1",
           "RECSYS_METRICS_PORT": "0",
           **{f"RECSYS_{name.upper()}_PORT": str(port) for name, port in ports.items()}}
    process = subprocess.Popen([sys.executable, "-m", "training.cli", "serve", "all"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        address = f"127.0.0.1:{ports['gateway']}"
        assert wait_until_serving(address) == health_pb2.HealthCheckResponse.SERVING
        channel = grpc.insecure_channel(address)
        response = pb_grpc.RecommendationServiceStub(channel).Recommend(
            pb.RecommendRequest(user_id="U0000005", k=10), timeout=10)
        assert len(response.items) == 10 and response.mode == common_pb2.SERVING_MODE_FULL
        channel.close()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
