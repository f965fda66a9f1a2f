"""The HTTP server inside the test's own event loop (no other process): a taken port is the same clear
startup error as for the gRPC servers, requests are traced with their route template and the
caller's trace context, and stopping lets a request in flight finish."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import urllib.request

import pytest
from http_helpers import request

from core.errors import PortInUse
from recsys.v1 import recommendation_service_pb2 as pb
from services.http.app import create_app
from services.http.server import HttpServer


class SlowGateway:
    """A stand-in gateway: answers GetSystemInfo after ``delay_s`` (no models needed here)."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s

    async def call(self, method: str, request_message: object, timeout_s: float,
                   authorization: str | None = None) -> object:
        await asyncio.sleep(self.delay_s)
        return pb.GetSystemInfoResponse(version="test", items=3)

    async def ready(self) -> bool:
        return True

    async def close(self) -> None:
        return None


class Running:
    """An HttpServer on its own loop thread."""

    def __init__(self, app, port: int = 0) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server = HttpServer(app, "127.0.0.1", port, grace_s=5)
        self.port = self.run(self.server.start())

    def run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=30)

    def stop(self) -> None:
        self.run(self.server.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


def test_a_taken_port_is_a_startup_error_naming_it():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(PortInUse, match=f"127.0.0.1:{port}: the port is in use.*RECSYS_HTTP_PORT"):
            Running(create_app(SlowGateway()), port)


def test_requests_are_traced_with_the_route_and_the_callers_context():
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from services.common.tracing import configure_tracing

    exporter = InMemorySpanExporter()
    configure_tracing("http-test", exporter=exporter, synchronous=True)
    running = Running(create_app(SlowGateway()))
    try:
        trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
        call = urllib.request.Request(f"http://127.0.0.1:{running.port}/system-info",
                                      headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"})
        with urllib.request.urlopen(call, timeout=10) as answer:
            assert answer.status == 200
    finally:
        running.stop()
    spans = [span for span in exporter.get_finished_spans() if span.name == "HTTP GET /system-info"]
    assert spans, [span.name for span in exporter.get_finished_spans()]
    assert spans[0].attributes["http.route"] == "/system-info"
    assert spans[0].attributes["http.response.status_code"] == 200
    assert format(spans[0].context.trace_id, "032x") == trace_id  # a child of the caller's trace


def test_stopping_lets_a_request_in_flight_finish():
    running = Running(create_app(SlowGateway(delay_s=1.0)))
    answers: list[int] = []
    caller = threading.Thread(target=lambda: answers.append(
        request("GET", f"http://127.0.0.1:{running.port}/system-info")[0]))
    caller.start()
    time.sleep(0.3)  # the request is in the gateway now
    running.stop()
    caller.join(timeout=10)
    assert answers == [200]
