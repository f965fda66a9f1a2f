"""The servers' event loop: uvloop unless RECSYS_EVENT_LOOP says asyncio, a bad value named, and a
grpc.aio server answering on either loop."""

from __future__ import annotations

import asyncio

import grpc
import pytest
import uvloop
from grpc_health.v1 import health_pb2, health_pb2_grpc

from core.errors import SettingsError
from services.common import event_loop
from services.common.server import GrpcServer
from services.common.settings import ServiceSettings
from services.gateway.settings import GatewaySettings
from services.http.settings import HttpSettings


@pytest.mark.parametrize(("raw", "expected"), [(None, "uvloop"), ("", "uvloop"), ("uvloop", "uvloop"),
                                               ("asyncio", "asyncio"), ("AsyncIO", "asyncio")])
def test_every_server_reads_the_setting(raw, expected):
    env = {"RECSYS_ARTIFACT": "/models/current"} | ({"RECSYS_EVENT_LOOP": raw} if raw is not None else {})
    assert ServiceSettings.from_env("scoring", env).event_loop == expected
    assert GatewaySettings.from_env(env).event_loop == expected
    assert HttpSettings.from_env(env).event_loop == expected


def test_a_bad_choice_names_the_setting():
    with pytest.raises(SettingsError, match="RECSYS_EVENT_LOOP must be uvloop or asyncio, got 'trio'"):
        ServiceSettings.from_env("scoring", {"RECSYS_ARTIFACT": "/m", "RECSYS_EVENT_LOOP": "trio"})


async def _health_over_grpc() -> tuple[type, int]:
    """A real grpc.aio server on the running loop, asked for its health over a real connection."""
    server = GrpcServer([], "127.0.0.1:0")
    port = await server.start()
    await server.mark_serving()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            answer = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
    finally:
        await server.abandon()
    return type(asyncio.get_running_loop()), answer.status


@pytest.mark.parametrize(("choice", "loop_type"), [("uvloop", uvloop.Loop), ("asyncio", asyncio.BaseEventLoop)])
def test_grpc_serves_on_the_chosen_loop(choice, loop_type):
    ran_on, status = event_loop.run(_health_over_grpc(), choice)
    assert issubclass(ran_on, loop_type)
    assert (choice == "uvloop") == issubclass(ran_on, uvloop.Loop)
    assert status == health_pb2.HealthCheckResponse.SERVING
