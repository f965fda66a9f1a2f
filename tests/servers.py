"""Test helper: run a service's asyncio gRPC server on loopback in a background thread."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


class ServerThread:
    """Starts ``server`` (a services.common.server.GrpcServer) on its own event loop thread, so
    tests can use plain blocking channels against it."""

    def __init__(self, server) -> None:
        self.server = server
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.port = self.call(server.start())
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")

    def call(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=30)

    def close(self, drain: bool = False) -> None:
        """Stop the server; without ``drain`` it skips the NOT_SERVING pause (nothing here watches it)."""
        self.channel.close()
        if not drain:
            self.server.drain_delay_s = 0
        self.call(self.server.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


def wait_until_serving(address: str, service: str = "", timeout_s: float = 90.0) -> int:
    """Poll grpc.health.v1 until ``service`` is SERVING (or the time runs out); the last status."""
    channel = grpc.insecure_channel(address)
    health = health_pb2_grpc.HealthStub(channel)
    deadline, status = time.time() + timeout_s, None
    try:
        while time.time() < deadline and status != health_pb2.HealthCheckResponse.SERVING:
            try:
                status = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=1).status
            except grpc.RpcError:
                time.sleep(0.2)
    finally:
        channel.close()
    return status


def eventually(check: Callable[[], object], timeout_s: float, what: str, interval_s: float = 1.0) -> object:
    """``check()``'s first truthy result within ``timeout_s`` (generous: the machine may be busy)."""
    deadline = time.monotonic() + timeout_s
    last: object = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval_s)
    raise AssertionError(f"{what}: not within {timeout_s:.0f} s (last: {last!r})")


def start_serve_all(lightgcn, neumf, root, extra_env: dict[str, str] | None = None) -> tuple:
    """`recsys serve all` on free loopback ports with the embedded event pipeline (SQLite in ``root``,
    no Kafka), plus ``extra_env``; returns (process, ports by name, log path). The caller waits for it
    and stops it."""
    import os
    import subprocess
    import sys

    from stack.process import free_port

    ports = {name: free_port() for name in ("gateway", "retrieval", "scoring", "embedding", "http", "metrics")}
    env = {**os.environ, "RECSYS_ARTIFACT": str(lightgcn), "RECSYS_SCORING_ARTIFACT": str(neumf),
           "RECSYS_HOST": "127.0.0.1", "RECSYS_DATABASE_URL": f"sqlite:///{root}/store.db",
           "RECSYS_RELOAD_SECONDS": "0", **{f"RECSYS_{name.upper()}_PORT": str(port) for name, port in ports.items()},
           **(extra_env or {})}
    env.pop("RECSYS_KAFKA_BOOTSTRAP", None)
    log = root / "serve.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "cli.main", "serve", "all"], env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    return process, ports, log


class ServiceProxy:
    """Stands in for kube-proxy in front of a ClusterIP Service: each new TCP connection goes to one
    of the ready endpoints (in turn); removing an endpoint leaves open connections where they are."""

    def __init__(self, ports: list[int]) -> None:
        self.ready = list(ports)
        self._turn = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._connect, "127.0.0.1", 0)
        return self._server.sockets[0].getsockname()[1]

    async def _connect(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        self._turn += 1
        port = self.ready[self._turn % len(self.ready)]
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(_pipe(client_reader, writer), _pipe(reader, client_writer))

    async def close(self) -> None:
        self._server.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()
