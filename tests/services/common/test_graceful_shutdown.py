"""Graceful shutdown (what SIGTERM triggers): health flips to NOT_SERVING at once and is still
answered during the drain delay, calls already in flight complete normally, then the server closes."""

from __future__ import annotations

import asyncio
import threading
import time

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from servers import ServerThread

from recsys.v1 import retrieval_service_pb2 as pb
from recsys.v1 import retrieval_service_pb2_grpc as pb_grpc
from services.common.server import GrpcServer, ServiceBinding

SERVICE = "recsys.v1.RetrievalService"


class SlowRetrieval(pb_grpc.RetrievalServiceServicer):
    """A test servicer whose calls take 1 s, so a call is surely in flight during shutdown."""

    async def Retrieve(self, request, context):
        await asyncio.sleep(1.0)
        return pb.RetrieveResponse(candidates=[pb.Candidate(item_id="slow", score=1.0)], model_version="v1")


def test_in_flight_calls_finish_while_health_says_not_serving():
    servicer = SlowRetrieval()
    server = GrpcServer([ServiceBinding(SERVICE, lambda s: pb_grpc.add_RetrievalServiceServicer_to_server(
        servicer, s))], "127.0.0.1:0", grace_s=5.0,
                        drain_delay_s=0.5)
    thread = ServerThread(server)
    thread.call(server.mark_serving())
    stub = pb_grpc.RetrievalServiceStub(thread.channel)
    health = health_pb2_grpc.HealthStub(grpc.insecure_channel(f"127.0.0.1:{thread.port}"))
    result: dict[str, object] = {}

    def call() -> None:
        try:
            result["reply"] = stub.Retrieve(pb.RetrieveRequest(num_candidates=1), timeout=10)
        except grpc.RpcError as error:
            result["error"] = error.code()

    caller = threading.Thread(target=call)
    caller.start()
    time.sleep(0.3)  # the call is now waiting inside the servicer
    stopping = asyncio.run_coroutine_threadsafe(server.stop(), thread.loop)
    time.sleep(0.2)
    status = health.Check(health_pb2.HealthCheckRequest(service=SERVICE), timeout=2).status
    caller.join(timeout=10)
    stopping.result(timeout=10)
    assert status == health_pb2.HealthCheckResponse.NOT_SERVING
    assert "error" not in result and result["reply"].candidates[0].item_id == "slow"
    try:
        stub.Retrieve(pb.RetrieveRequest(num_candidates=1), timeout=2)
        raise AssertionError("a stopped server answered")
    except grpc.RpcError as error:
        assert error.code() == grpc.StatusCode.UNAVAILABLE
    thread.loop.call_soon_threadsafe(thread.loop.stop)
