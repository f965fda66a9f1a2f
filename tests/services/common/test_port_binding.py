"""A server never shares its port by accident: gRPC sets SO_REUSEPORT by default, which let a second
`serve` come up on ports in use and answer part of the connections with another model. Only the
workers of one `serve all` (RECSYS_WORKERS > 1) share ports."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys

import pytest

from core.errors import PortInUse
from services.common.server import GrpcServer


def test_a_port_in_use_is_a_startup_error_naming_it():
    async def scenario() -> str:
        first = GrpcServer([], "127.0.0.1:0")
        port = await first.start()
        try:
            with pytest.raises(PortInUse, match=f"127.0.0.1:{port}: the port is in use"):
                await GrpcServer([], f"127.0.0.1:{port}").start()
        finally:
            await first.server.stop(0)
        return "ok"

    assert asyncio.run(scenario()) == "ok"


def test_workers_of_one_serve_all_share_the_port():
    async def scenario() -> tuple[int, int]:
        first = GrpcServer([], "127.0.0.1:0", reuse_port=True)
        port = await first.start()
        second = GrpcServer([], f"127.0.0.1:{port}", reuse_port=True)
        try:
            return port, await second.start()
        finally:
            await first.server.stop(0)
            await second.server.stop(0)

    port, again = asyncio.run(scenario())
    assert again == port


def test_recsys_serve_on_a_taken_port_exits_with_a_message():
    with socket.socket() as taken:  # any listener: what matters is that the port is not free
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "RECSYS_PORT": str(port), "RECSYS_METRICS_PORT": "0",
               "RECSYS_ARTIFACT": "/nonexistent-artifact"}
        result = subprocess.run([sys.executable, "-m", "cli.main", "serve", "retrieval"], env=env,
                                capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert f"127.0.0.1:{port}" in result.stderr or f":{port}: the port is in use" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_a_taken_metrics_port_is_a_startup_error_naming_it():
    from telemetry.setup import start_metrics_server

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(PortInUse, match=f"127.0.0.1:{port}: the port is in use"):
            start_metrics_server(port, host="127.0.0.1")


def test_the_metrics_port_answers_metrics_only():
    import urllib.error
    import urllib.request

    from telemetry.setup import start_metrics_server

    port = start_metrics_server(0, host="127.0.0.1")
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
        assert answer.status == 200 and b"# TYPE" in answer.read()
    for path in ("/health", "/", "/ready"):  # a probe pointed here must not read a misleading 200
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10)
        assert info.value.code == 404


def test_livez_says_why_when_the_process_reports_a_problem(monkeypatch):
    import urllib.error
    import urllib.request

    from telemetry.setup import LIVENESS, start_metrics_server

    port = start_metrics_server(0, host="127.0.0.1")
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/livez", timeout=10) as answer:
        assert answer.status == 200 and answer.read() == b"alive\n"
    monkeypatch.setattr(LIVENESS, "problem", lambda: "the event loop has not run a task for 75 s")
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/livez", timeout=10)
    assert info.value.code == 503 and info.value.read() == b"not alive: the event loop has not run a task for 75 s\n"
