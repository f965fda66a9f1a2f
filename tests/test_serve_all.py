"""`recsys serve all` as a real process: the four services come up, Recommend answers through
all of them, and SIGTERM shuts everything down cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from recsys.v1 import common_pb2, recommendation_service_pb2 as pb, recommendation_service_pb2_grpc as pb_grpc
from training.artifacts import save_artifact
from training.config import TrainConfig
from training.trainer import train


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def artifacts(small_dataset, tmp_path_factory):
    paths = {}
    for name, config in (("lightgcn", TrainConfig(model="lightgcn", epochs=2, batch_size=1024, lr=0.01)),
                         ("neumf", TrainConfig(model="neumf", epochs=1, batch_size=1024))):
        result = train(small_dataset, config, progress=False, echo=lambda s: None)
        paths[name] = tmp_path_factory.mktemp(name)
        save_artifact(paths[name], result.model, small_dataset, {"config": {}}, result.test_metrics)
    return paths


def test_serve_all_answers_and_stops_on_sigterm(artifacts):
    ports = {service: _free_port() for service in ("gateway", "retrieval", "scoring", "embedding")}
    env = {**os.environ, "RECSYS_ARTIFACT": str(artifacts["lightgcn"]),
           "RECSYS_SCORING_ARTIFACT": str(artifacts["neumf"]), "RECSYS_HOST": "127.0.0.1",
           "RECSYS_METRICS_PORT": "0",
           **{f"RECSYS_{name.upper()}_PORT": str(port) for name, port in ports.items()}}
    process = subprocess.Popen([sys.executable, "-m", "training.cli", "serve", "all"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        channel = grpc.insecure_channel(f"127.0.0.1:{ports['gateway']}")
        health = health_pb2_grpc.HealthStub(channel)
        deadline, status = time.time() + 90, None
        while time.time() < deadline and status != health_pb2.HealthCheckResponse.SERVING:
            try:
                status = health.Check(health_pb2.HealthCheckRequest(), timeout=1).status
            except grpc.RpcError:
                time.sleep(0.3)
        assert status == health_pb2.HealthCheckResponse.SERVING
        response = pb_grpc.RecommendationServiceStub(channel).Recommend(
            pb.RecommendRequest(user_id="U0000005", k=10), timeout=10)
        assert len(response.items) == 10 and response.mode == common_pb2.SERVING_MODE_FULL
        channel.close()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
