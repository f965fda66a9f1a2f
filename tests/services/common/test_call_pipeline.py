"""The call pipeline every GrpcServer puts around its methods (services/common/pipeline.py), on a
real grpc.aio server: status codes and messages for what a servicer raises, every call counted by
its code, a span per call when tracing exports, the drain told of client calls only, and a
streaming method of a service refused at start."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from core.errors import NotFound
from services.common.metrics import RPC_TOTAL
from services.common.server import GrpcServer, ServiceBinding

SERVICE = "test.Pipeline"


async def _fine(request: bytes, context) -> bytes:
    return b"fine:" + request


async def _missing(request: bytes, context) -> bytes:
    raise NotFound("no such thing as " + request.decode())


async def _broken(request: bytes, context) -> bytes:
    raise RuntimeError("password=hunter2 in a SQL string")


async def _aborts(request: bytes, context) -> bytes:
    await context.abort(grpc.StatusCode.FAILED_PRECONDITION, "chose its own status")


def _binding(handlers: dict[str, grpc.RpcMethodHandler]) -> ServiceBinding:
    def register(server) -> None:  # as a generated add_*Servicer_to_server does
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
        server.add_registered_method_handlers(SERVICE, handlers)
    return ServiceBinding(SERVICE, register)


UNARY = {name: grpc.unary_unary_rpc_method_handler(behaviour)
         for name, behaviour in (("Fine", _fine), ("Missing", _missing), ("Broken", _broken), ("Aborts", _aborts))}


@contextlib.asynccontextmanager
async def _serving() -> AsyncIterator[tuple[GrpcServer, grpc.aio.Channel]]:
    """A GrpcServer with the test service, and a channel to it."""
    server = GrpcServer([_binding(UNARY)], "127.0.0.1:0")
    port = await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield server, channel
    finally:
        await server.abandon()


def _count(method: str, code: str) -> float:
    return RPC_TOTAL.labels("Pipeline", method, code)._value.get()


async def _eventually(check, timeout_s: float = 30.0) -> bool:
    """The server counts a call after its answer has left: wait for the count."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not check():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


def test_errors_become_status_codes_and_every_call_is_counted_by_its_code(caplog):
    expected = {"Fine": ("OK", None, None), "Missing": ("NOT_FOUND", grpc.StatusCode.NOT_FOUND, "no such thing as x"),
                "Broken": ("INTERNAL", grpc.StatusCode.INTERNAL, "internal error (RuntimeError)"),
                "Aborts": ("FAILED_PRECONDITION", grpc.StatusCode.FAILED_PRECONDITION, "chose its own status")}

    async def scenario() -> None:
        before = {method: _count(method, code) for method, (code, _, _) in expected.items()}
        async with _serving() as (_, channel):
            for method, (_, status, detail) in expected.items():
                call = channel.unary_unary(f"/{SERVICE}/{method}")
                if status is None:
                    assert await call(b"x", timeout=10) == b"fine:x"
                    continue
                with pytest.raises(grpc.aio.AioRpcError) as error:
                    await call(b"x", timeout=10)
                assert error.value.code() == status and detail in error.value.details()
                assert "hunter2" not in error.value.details()  # an unexpected error's text stays in the log
            assert await _eventually(lambda: all(_count(method, code) == before[method] + 1
                                                 for method, (code, _, _) in expected.items()))

    with caplog.at_level(logging.ERROR):
        asyncio.run(scenario())
    logged = [record for record in caplog.records if "unexpected error" in record.getMessage()]
    assert len(logged) == 1 and "/test.Pipeline/Broken" in logged[0].getMessage() and logged[0].exc_info


def test_the_drain_hears_of_client_calls_but_not_of_health_checks():
    async def scenario() -> None:
        async with _serving() as (server, channel):
            await channel.unary_unary(f"/{SERVICE}/Fine")(b"", timeout=10)
            server.activity.last_call_at -= 100.0  # as if the last client call were long ago
            for _ in range(5):
                await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
            assert server.activity.quiet_for() >= 100.0
            await channel.unary_unary(f"/{SERVICE}/Fine")(b"", timeout=10)
            assert server.activity.quiet_for() < 100.0

    asyncio.run(scenario())


def test_a_streaming_method_of_a_service_is_refused_at_start_rather_than_served_unguarded():
    async def echo(requests, context):
        async for request in requests:
            yield request

    streaming = {"Chat": grpc.stream_stream_rpc_method_handler(echo)}

    async def scenario() -> None:
        server = GrpcServer([_binding(streaming)], "127.0.0.1:0")
        try:
            with pytest.raises(ValueError, match="/test.Pipeline/Chat: only unary methods"):
                await server.start()
        finally:
            await server.abandon()

    asyncio.run(scenario())


def test_a_failed_call_leaves_a_span_marked_with_its_status_code():
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from services.common.tracing import configure_tracing

    exporter = InMemorySpanExporter()
    configure_tracing("test", exporter=exporter, synchronous=True)

    async def scenario() -> None:
        async with _serving() as (_, channel):
            await channel.unary_unary(f"/{SERVICE}/Fine")(b"", timeout=10)
            with pytest.raises(grpc.aio.AioRpcError):
                await channel.unary_unary(f"/{SERVICE}/Missing")(b"x", timeout=10)

    asyncio.run(scenario())
    spans = {span.name: span for span in exporter.get_finished_spans() if span.name.startswith(SERVICE)}
    assert spans[f"{SERVICE}/Fine"].status.is_ok
    failed = spans[f"{SERVICE}/Missing"]
    assert not failed.status.is_ok
    assert failed.attributes["rpc.grpc.status_code"] == grpc.StatusCode.NOT_FOUND.value[0]
    assert failed.attributes["rpc.method"] == f"{SERVICE}/Missing"
