"""The gateway's channels spread calls over every address a backend's name resolves to (a headless
Service's pods), instead of riding one connection to one replica; the servers accept the clients'
keepalive pings."""

from __future__ import annotations

import asyncio
from collections import Counter

import grpc

from services.common.channels import balanced_channel
from services.common.server import GrpcServer, ServiceBinding

METHOD = "/test.Who/Am"


def _replica(name: str) -> ServiceBinding:
    """A service whose one method answers the replica's name."""
    async def am(request: bytes, context) -> bytes:
        return name.encode()

    handler = grpc.method_handlers_generic_handler("test.Who", {"Am": grpc.unary_unary_rpc_method_handler(am)})
    return ServiceBinding("test.Who", lambda server: server.add_generic_rpc_handlers((handler,)))


def test_calls_spread_over_every_replica_of_a_multi_address_target():
    async def scenario() -> Counter:
        replicas = [GrpcServer([_replica(name)], "127.0.0.1:0") for name in ("a", "b", "c")]
        ports = [await replica.start() for replica in replicas]
        for replica in replicas:  # the channels check health: a replica without a model gets no calls
            await replica.mark_serving()
        # what a headless Service's DNS name gives the channel: several addresses for one target
        channel = balanced_channel("ipv4:" + ",".join(f"127.0.0.1:{port}" for port in ports))
        try:
            call = channel.unary_unary(METHOD)
            answers = Counter([(await call(b"", timeout=10)).decode() for _ in range(30)])
        finally:
            await channel.close()
            for replica in replicas:
                await replica.server.stop(0)
        return answers

    answers = asyncio.run(scenario())
    assert set(answers) == {"a", "b", "c"} and min(answers.values()) >= 5, answers
