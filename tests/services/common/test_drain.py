"""A replica that is stopped (SIGTERM) while clients call it fails none of their calls: it says
NOT_SERVING, keeps answering until the clients have gone to other replicas, and only then stops.

Two kinds of client, as on Kubernetes: the gateway's balanced channels over a headless Service
(several addresses, health checked), and a plain client behind a ClusterIP Service, here a small
TCP forwarder standing in for kube-proxy (new connections go to the replicas still ready; open ones
stay where they are, as with kube-proxy's connection tracking)."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter

import grpc
import pytest
from servers import ServiceProxy

from services.common.channels import balanced_channel
from services.common.server import GrpcServer, ServiceBinding

METHOD = "/test.Who/Am"
AGE_S = 2.0  # the replicas' maximum connection age (30 s in production), so the tests stay short


def _replica_binding(name: str) -> ServiceBinding:
    async def am(request: bytes, context) -> bytes:
        await asyncio.sleep(0.002)  # some work, so calls are in flight when the stop begins
        return name.encode()

    handler = grpc.method_handlers_generic_handler("test.Who", {"Am": grpc.unary_unary_rpc_method_handler(am)})
    return ServiceBinding("test.Who", lambda server: server.add_generic_rpc_handlers((handler,)))


async def _replicas(names: str, drain_s: float = 0.5) -> list[GrpcServer]:
    replicas = [GrpcServer([_replica_binding(name)], "127.0.0.1:0", grace_s=5.0, drain_delay_s=drain_s,
                           max_connection_age_s=AGE_S) for name in names]
    for replica in replicas:
        await replica.start()
        await replica.mark_serving()
    return replicas


class Load:
    """``concurrency`` callers calling ``METHOD`` over ``channels`` until stopped; answers by replica
    and failures by status code."""

    def __init__(self, channels: list[grpc.aio.Channel], concurrency: int = 16) -> None:
        self.calls = [channel.unary_unary(METHOD) for channel in channels]
        self.answers: Counter = Counter()
        self.failures: Counter = Counter()
        self._running = True
        self._tasks = [asyncio.create_task(self._caller(i)) for i in range(concurrency)]

    async def _caller(self, index: int) -> None:
        call = self.calls[index % len(self.calls)]
        while self._running:
            try:
                self.answers[(await call(b"", timeout=10)).decode()] += 1
            except grpc.aio.AioRpcError as error:
                self.failures[error.code().name] += 1

    async def stop(self) -> None:
        self._running = False
        await asyncio.gather(*self._tasks)


def test_a_replica_stopped_under_load_through_balanced_channels_fails_no_call():
    async def scenario() -> tuple[Counter, Counter, Counter, Counter]:
        replicas = await _replicas("abc")
        channel = balanced_channel("ipv4:" + ",".join(f"127.0.0.1:{r.port}" for r in replicas))
        load = Load([channel])
        await asyncio.sleep(1.0)
        before = Counter(load.answers)
        await replicas[0].stop()  # what SIGTERM does
        after_stop = Counter(load.answers)
        await asyncio.sleep(1.0)
        await load.stop()
        await channel.close()
        for replica in replicas[1:]:
            await replica.server.stop(0)
        return before, after_stop, load.answers, load.failures

    before, after_stop, answers, failures = asyncio.run(scenario())
    assert before["a"] > 0, before  # the stopped replica was answering its share before
    assert not failures, failures
    assert answers["a"] == after_stop["a"]  # and nothing after it stopped
    assert answers["b"] > before["b"] and answers["c"] > before["c"], answers


def test_a_replica_stopped_under_load_behind_a_service_address_fails_no_call():
    async def scenario() -> tuple[Counter, Counter, Counter, Counter]:
        replicas = await _replicas("ab")
        proxy = ServiceProxy([replica.port for replica in replicas])
        port = await proxy.start()
        # like the load generator: several plain channels (one connection each) to one address
        channels = [grpc.aio.insecure_channel(f"127.0.0.1:{port}", options=[("grpc.use_local_subchannel_pool", 1)])
                    for _ in range(4)]
        load = Load(channels)
        await asyncio.sleep(1.0)
        before = Counter(load.answers)
        proxy.ready.remove(replicas[0].port)  # the terminating pod leaves the Service's endpoints
        await replicas[0].stop()
        after_stop = Counter(load.answers)
        await asyncio.sleep(1.0)
        await load.stop()
        for channel in channels:
            await channel.close()
        await replicas[1].server.stop(0)
        await proxy.close()
        return before, after_stop, load.answers, load.failures

    before, after_stop, answers, failures = asyncio.run(scenario())
    assert before["a"] > 0 and before["b"] > 0, before
    assert not failures, failures
    assert answers["a"] == after_stop["a"] and answers["b"] > after_stop["b"], answers


def test_health_watches_end_with_the_drain_instead_of_holding_the_shutdown(caplog):
    async def scenario() -> None:
        (replica,) = await _replicas("a", drain_s=0.2)
        replica.grace_s = 120.0  # an open watch would hold the stop this long, then be cancelled
        channel = balanced_channel(f"127.0.0.1:{replica.port}")  # health checked: a Watch stays open
        assert (await channel.unary_unary(METHOD)(b"", timeout=10)) == b"a"
        await asyncio.wait_for(replica.stop(), timeout=60)
        await channel.close()

    with caplog.at_level(logging.ERROR):
        asyncio.run(scenario())  # wait_for raises if the stop waited for the watch
    assert not [r for r in caplog.records if "Exception not handled" in r.getMessage()]


@pytest.mark.parametrize("minimum_s", [0.0, 0.3])
def test_the_drain_waits_at_least_its_minimum_and_stops_at_its_limit_when_calls_keep_coming(minimum_s):
    from services.common.drain import Activity, wait_for_clients_to_leave

    class Busy(Activity):
        def quiet_for(self) -> float:
            return 0.0  # a client that never leaves

    waited = asyncio.run(wait_for_clients_to_leave(Busy(), minimum_s, maximum_s=0.5, poll_s=0.01))
    assert waited == 0.0 if minimum_s == 0 else waited >= 0.5
