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
from grpc_health.v1 import health_pb2
from servers import wait_until_serving

from recsys.v1 import common_pb2
from recsys.v1 import recommendation_service_pb2 as pb
from recsys.v1 import recommendation_service_pb2_grpc as pb_grpc

pytestmark = pytest.mark.integration  # starts recsys processes


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def artifacts(publish):
    return {"lightgcn": publish("lightgcn", "lightgcn-all"), "neumf": publish("neumf", "neumf-all")}


def _assert_recommends(channel: grpc.Channel) -> None:
    response = pb_grpc.RecommendationServiceStub(channel).Recommend(
        pb.RecommendRequest(user_id="U0000005", k=10), timeout=10)
    assert len(response.items) == 10 and response.mode == common_pb2.SERVING_MODE_FULL
    channel.close()


def test_serve_all_answers_and_stops_on_sigterm(artifacts):
    process, address, _ = _start_workers(artifacts, 1)
    try:
        assert wait_until_serving(address) == health_pb2.HealthCheckResponse.SERVING
        _assert_recommends(grpc.insecure_channel(address))
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()


def _free_pair() -> int:
    """A port p with p + 1 free too (the second worker's metrics port)."""
    for _ in range(50):
        port = _free_port()
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no two adjacent free ports")


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(p) for p in f.read().split()]


def _start_workers(artifacts, count: int):
    """`recsys serve all` with ``count`` workers on free ports; (process, gateway address, metrics port)."""
    ports = {service: _free_port() for service in ("gateway", "retrieval", "scoring", "embedding", "http")}
    metrics = _free_pair() if count > 1 else 0
    env = {**os.environ, "RECSYS_ARTIFACT": str(artifacts["lightgcn"]),
           "RECSYS_SCORING_ARTIFACT": str(artifacts["neumf"]), "RECSYS_HOST": "127.0.0.1",
           "RECSYS_METRICS_PORT": str(metrics), "RECSYS_WORKERS": str(count),
           **{f"RECSYS_{name.upper()}_PORT": str(port) for name, port in ports.items()}}
    process = subprocess.Popen([sys.executable, "-m", "cli.main", "serve", "all"], env=env)
    return process, f"127.0.0.1:{ports['gateway']}", metrics


def test_workers_share_the_ports_and_all_drain_on_sigterm(artifacts):
    import urllib.request

    process, address, metrics = _start_workers(artifacts, 2)
    try:
        assert wait_until_serving(address) == health_pb2.HealthCheckResponse.SERVING
        deadline = time.time() + 60
        while time.time() < deadline:  # both workers up: each has its own /metrics
            try:
                pages = [urllib.request.urlopen(f"http://127.0.0.1:{metrics + i}/metrics", timeout=2).read().decode()
                         for i in range(2)]
                if all('recsys_model_info{service="gateway"' in page for page in pages):
                    break
            except OSError:
                pass
            time.sleep(0.3)
        else:
            raise AssertionError("the second worker never served /metrics")
        workers = _children(process.pid)
        assert len(workers) == 2
        # separate connections land on either worker; every one of them answers
        channels = [grpc.insecure_channel(address, options=[("grpc.use_local_subchannel_pool", 1)]) for _ in range(8)]
        for channel in channels:
            _assert_recommends(channel)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        assert not any(os.path.exists(f"/proc/{pid}") for pid in workers)
    finally:
        if process.poll() is None:
            process.kill()


def test_a_worker_that_dies_takes_the_set_down_for_the_supervisor(artifacts):
    process, address, _ = _start_workers(artifacts, 2)
    try:
        assert wait_until_serving(address) == health_pb2.HealthCheckResponse.SERVING
        deadline = time.time() + 30
        while len(_children(process.pid)) < 2 and time.time() < deadline:
            time.sleep(0.2)
        first, second = _children(process.pid)
        os.kill(first, signal.SIGKILL)
        assert process.wait(timeout=30) != 0
        assert not os.path.exists(f"/proc/{second}")
    finally:
        if process.poll() is None:
            process.kill()


def test_a_stop_while_the_workers_are_still_starting_is_a_clean_stop(artifacts):
    process, _address, _metrics = _start_workers(artifacts, 2)
    try:
        deadline = time.time() + 60
        while time.time() < deadline and len(_children(process.pid)) < 2:  # both spawned, neither ready
            time.sleep(0.05)
        assert len(_children(process.pid)) == 2
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0  # a worker that ends by the forwarded signal is not a failure
    finally:
        if process.poll() is None:
            process.kill()
