"""In-process hops keep the gRPC contract: deadlines, status codes, metrics."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from cli.local_backends import local_call
from core.errors import InvalidRequest, NotFound
from services.common.metrics import RPC_TOTAL


class Backend:
    async def Echo(self):
        return "hello"

    async def Slow(self):
        await asyncio.sleep(1)

    async def Bad(self):
        raise InvalidRequest("k must be positive")

    async def Missing(self):
        raise NotFound("unknown product 'x'")

    async def Broken(self):
        raise RuntimeError("boom")

    async def Aborts(self):
        raise grpc.aio.AioRpcError(grpc.StatusCode.UNIMPLEMENTED, grpc.aio.Metadata(), grpc.aio.Metadata(),
                                   details="not here")


def _run(coroutine):
    return asyncio.run(coroutine)


def test_answers_pass_through_and_are_counted():
    before = RPC_TOTAL.labels("TestService", "Echo", "OK")._value.get()
    assert _run(local_call("TestService", "Echo", Backend().Echo, timeout=1)) == "hello"
    assert RPC_TOTAL.labels("TestService", "Echo", "OK")._value.get() == before + 1


@pytest.mark.parametrize("method, code, details", [
    ("Slow", grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded"),
    ("Bad", grpc.StatusCode.INVALID_ARGUMENT, "k must be positive"),
    ("Missing", grpc.StatusCode.NOT_FOUND, "unknown product"),
    ("Broken", grpc.StatusCode.INTERNAL, "internal error (RuntimeError)"),  # not its text: it may hold SQL
    ("Aborts", grpc.StatusCode.UNIMPLEMENTED, "not here"),
])
def test_errors_become_the_status_codes_a_grpc_call_would_raise(method, code, details):
    with pytest.raises(grpc.aio.AioRpcError) as info:
        _run(local_call("TestService", method, getattr(Backend(), method), timeout=0.05))
    assert info.value.code() == code and details in info.value.details()
