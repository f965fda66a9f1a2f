"""A serving process whose artifact does not exist yet (the canary track between rollouts) stays
up and NOT_SERVING, alive for liveness probes, loads the artifact once it appears, and stops on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from stack.process import free_port

pytestmark = pytest.mark.integration  # starts recsys processes

SERVING, NOT_SERVING = health_pb2.HealthCheckResponse.SERVING, health_pb2.HealthCheckResponse.NOT_SERVING


def _status(address: str, service: str = "") -> int | None:
    with grpc.insecure_channel(address) as channel:
        try:
            return health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=service),
                                                            timeout=2).status
        except grpc.RpcError:
            return None


def _until(check, timeout_s: float = 60.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def _start(track, tmp_path):
    port = free_port()
    env = {**os.environ, "RECSYS_ARTIFACT": str(track), "RECSYS_HOST": "127.0.0.1", "RECSYS_PORT": str(port),
           "RECSYS_METRICS_PORT": "0", "RECSYS_RELOAD_SECONDS": "1", "RECSYS_DRAIN_SECONDS": "0"}
    process = subprocess.Popen([sys.executable, "-m", "cli.main", "serve", "retrieval"], env=env,
                               stdout=open(tmp_path / "serve.log", "wb"), stderr=subprocess.STDOUT)
    return process, f"127.0.0.1:{port}"


def test_waits_not_serving_then_loads_when_the_track_appears(publish, tmp_path):
    artifact = publish("lightgcn", "waiting-v1")
    track = tmp_path / "model" / "canary"
    process, address = _start(track, tmp_path)
    try:
        assert _until(lambda: _status(address, "liveness") == SERVING)
        assert _status(address) == NOT_SERVING  # readiness: no model yet
        log = (tmp_path / "serve.log").read_text()
        assert f"WARNING services.common.server RECSYS_ARTIFACT {track} does not exist" in log  # a typo shows
        time.sleep(1.5)
        assert process.poll() is None  # still up, not crashed
        track.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(artifact, track)  # what the operator does when a canary starts
        assert _until(lambda: _status(address) == SERVING, 30)
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()


def test_sigterm_while_waiting_exits_cleanly(tmp_path):
    process, address = _start(tmp_path / "nothing" / "canary", tmp_path)
    try:
        assert _until(lambda: _status(address, "liveness") == SERVING)
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()
