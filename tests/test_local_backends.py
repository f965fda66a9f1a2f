"""The in-process backend stub keeps the gRPC contract: messages, deadlines, status codes, metrics."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from services.common.errors import InvalidRequest, NotFound
from services.common.metrics import RPC_TOTAL
from services.gateway.local import LocalStub


class Servicer:
    async def Echo(self, request, context):
        return request

    async def Slow(self, request, context):
        await asyncio.sleep(1)

    async def Bad(self, request, context):
        raise InvalidRequest("k must be positive")

    async def Missing(self, request, context):
        raise NotFound("unknown product 'x'")

    async def Broken(self, request, context):
        raise RuntimeError("boom")

    async def Aborts(self, request, context):
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "not here")


def _run(coroutine):
    return asyncio.run(coroutine)


def test_answers_pass_through_and_are_counted():
    stub = LocalStub(Servicer(), "TestService")
    before = RPC_TOTAL.labels("TestService", "Echo", "OK")._value.get()  # noqa: SLF001
    assert _run(stub.Echo("hello", timeout=1)) == "hello"
    assert RPC_TOTAL.labels("TestService", "Echo", "OK")._value.get() == before + 1  # noqa: SLF001


@pytest.mark.parametrize("method, code, details", [
    ("Slow", grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded"),
    ("Bad", grpc.StatusCode.INVALID_ARGUMENT, "k must be positive"),
    ("Missing", grpc.StatusCode.NOT_FOUND, "unknown product"),
    ("Broken", grpc.StatusCode.INTERNAL, "boom"),
    ("Aborts", grpc.StatusCode.UNIMPLEMENTED, "not here"),
])
def test_errors_become_the_status_codes_a_grpc_call_would_raise(method, code, details):
    stub = LocalStub(Servicer(), "TestService")
    with pytest.raises(grpc.aio.AioRpcError) as info:
        _run(getattr(stub, method)(None, timeout=0.05))
    assert info.value.code() == code and details in info.value.details()
