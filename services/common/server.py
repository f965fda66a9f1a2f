"""Server bootstrap shared by every service: grpc.aio server with the call pipeline (metrics,
tracing, authentication, error mapping: services/common/pipeline.py) around every method, the
standard health service (SERVING only once the model is loaded), server reflection (so grpcurl
works), and graceful shutdown on SIGTERM (NOT_SERVING, serve until the clients have left, finish the
calls in flight, exit)."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection, reflection_pb2_grpc

from core.artifact import artifact_version
from core.errors import PortInUse
from core.security import Security
from services.common.drain import Activity, DrainingHealthServicer, wait_for_clients_to_leave
from services.common.heap import freeze_long_lived
from services.common.pipeline import CallPipeline, PipelinedRegistration, Unimplemented
from services.common.reload import watch_artifact
from services.common.tls import server_credentials
from telemetry.setup import READINESS, start_metrics_server

log = logging.getLogger(__name__)


@dataclass
class ServiceBinding:
    """One servicer: how to register it, and its full service name (for health and reflection)."""

    name: str  # e.g. "recsys.v1.RetrievalService"
    register: Callable[[PipelinedRegistration], None]  # e.g. a generated add_*Servicer_to_server


LIVENESS = "liveness"
# Connections are closed after an age (RECSYS_MAX_CONNECTION_AGE_SECONDS, plus this grace for calls
# in flight), so clients resolve the service's name again and spread over pods that appeared since
# (services/common/channels.py), and leave a terminating pod (services/common/drain.py).
MAX_CONNECTION_AGE_S = 30.0
MAX_CONNECTION_AGE_GRACE_S = 5.0
# clients ping every 30 s (channels.py); gRPC servers otherwise answer pings more often than every
# 5 minutes with GOAWAY "too_many_pings"
MIN_PING_INTERVAL_MS = 10_000


class GrpcServer:
    """Owns one grpc.aio server and its health state. ``reuse_port``: share the port with other
    processes (SO_REUSEPORT), only for the workers of one `serve all` (RECSYS_WORKERS > 1); otherwise
    a port in use is a startup error, not a second server silently answering half the connections.
    ``drain_delay_s``: after SIGTERM, how long at least health says NOT_SERVING while calls are still
    answered (0: stop at once); the drain then lasts until the clients have left, at most until every
    connection has reached ``max_connection_age_s``."""

    def __init__(self, bindings: Sequence[ServiceBinding], address: str, grace_s: float = 5.0,
                 drain_delay_s: float = 0.0, reuse_port: bool = False, security: Security = Security(),
                 max_connection_age_s: float = MAX_CONNECTION_AGE_S) -> None:
        self.bindings = list(bindings)
        self.security = security
        self.address = address
        self.grace_s = grace_s
        self.drain_delay_s = drain_delay_s
        self.max_connection_age_s = max_connection_age_s
        self.activity = Activity()
        self.reuse_port = reuse_port
        self.port = 0
        # grpc.aio objects bind to the running event loop, so they are made in start().
        self.health: DrainingHealthServicer | None = None
        self.server: grpc.aio.Server | None = None

    async def start(self) -> int:
        self.health = DrainingHealthServicer()
        # gRPC turns SO_REUSEPORT on by default
        self.server = grpc.aio.server(options=[("grpc.so_reuseport", 1 if self.reuse_port else 0),
                                               ("grpc.max_connection_age_ms", int(self.max_connection_age_s * 1000)),
                                               ("grpc.max_connection_age_grace_ms",
                                                int(MAX_CONNECTION_AGE_GRACE_S * 1000)),
                                               ("grpc.http2.min_ping_interval_without_data_ms",
                                                MIN_PING_INTERVAL_MS),
                                               ("grpc.keepalive_permit_without_calls", 1)])
        # every handler in the call pipeline, registered through a stand-in for the server
        registration = PipelinedRegistration(self.server, CallPipeline(self.activity, self.security))
        for binding in self.bindings:
            binding.register(registration)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, registration)
        names = [b.name for b in self.bindings] + [health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                                                    reflection.SERVICE_NAME]
        reflection_pb2_grpc.add_ServerReflectionServicer_to_server(reflection.aio.ReflectionServicer(names),
                                                                   registration)
        self.server.add_generic_rpc_handlers((Unimplemented(),))  # last: only what nothing else answers
        try:
            if self.security.tls:
                self.port = self.server.add_secure_port(self.address, server_credentials(self.security))
            else:
                self.port = self.server.add_insecure_port(self.address)
        except RuntimeError as exc:  # grpcio: "Failed to bind to address ..."
            raise PortInUse(f"cannot listen on {self.address}: the port is in use by another process "
                            f"(choose another with RECSYS_PORT, or stop that server)") from exc
        await self.server.start()
        for binding in self.bindings:  # nothing is SERVING until its model is loaded
            await self.health.set(binding.name, health_pb2.HealthCheckResponse.NOT_SERVING)
        await self.health.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
        # "liveness" answers SERVING while the process runs, model or not: a liveness probe must not
        # restart a pod that is waiting for its artifact (readiness checks "" for that)
        await self.health.set(LIVENESS, health_pb2.HealthCheckResponse.SERVING)
        log.info("listening on port %d: %s", self.port, ", ".join(b.name for b in self.bindings))
        say_security(self.security)
        return self.port

    async def mark_serving(self) -> None:
        for binding in self.bindings:
            await self.health.set(binding.name, health_pb2.HealthCheckResponse.SERVING)
        await self.health.set("", health_pb2.HealthCheckResponse.SERVING)
        READINESS.ready = True

    @property
    def drain_limit_s(self) -> float:
        """The longest drain: every connection has then reached its maximum age (gRPC adds up to
        10% jitter to it) and had its grace, so no client is left on this server."""
        return max(self.drain_delay_s, self.max_connection_age_s * 1.1 + MAX_CONNECTION_AGE_GRACE_S + 1.0)

    async def stop(self) -> None:
        """NOT_SERVING first, still answering until the clients have left (services/common/drain.py);
        then refuse new calls and give in-flight ones ``grace_s`` to finish."""
        READINESS.ready = False
        await self.health.enter_graceful_shutdown()
        await wait_for_clients_to_leave(self.activity, self.drain_delay_s, self.drain_limit_s)
        self.health.end_watches()
        await self.server.stop(self.grace_s)

    async def abandon(self) -> None:
        """Stop at once, when start-up failed before anything was served (no drain needed): here,
        not by the garbage collector after the event loop closed, which prints a traceback under
        the caller's clear error."""
        await self.server.stop(None)

    async def run_until_terminated(self) -> None:
        """Serve until SIGTERM or SIGINT, then shut down gracefully."""
        try:
            await wait_for_termination()
            log.info("signal received: draining for up to %.0fs", self.grace_s)
        finally:
            await self.stop()


_SAID: set[str] = set()


def say_security(security: Security) -> None:
    """What the listeners of this process protect, once per process (serve all has five of them):
    INFO when encrypted and authenticated, WARNING otherwise."""
    line = security.describe()
    if line not in _SAID:
        _SAID.add(line)
        log.log(logging.INFO if security.tls and security.tokens else logging.WARNING, "listeners: %s", line)


async def _wait_for_artifact(server: GrpcServer, artifact: Path, interval_s: float,
                             remind_s: float = 60.0) -> bool:
    """A serving track with nothing on it yet (the canary track between rollouts) waits NOT_SERVING
    until the operator points it at a version; False when SIGTERM came first. The path is logged at
    WARNING when the wait starts and again every ``remind_s``, so a mistyped RECSYS_ARTIFACT shows."""
    log.warning("RECSYS_ARTIFACT %s does not exist (yet): NOT_SERVING until it does", artifact.absolute())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    waited = 0.0
    try:
        while not artifact.exists():
            try:
                await asyncio.wait_for(stop.wait(), interval_s)
            except TimeoutError:
                waited += interval_s
                if waited >= remind_s:
                    waited = 0.0
                    log.warning("still waiting for RECSYS_ARTIFACT %s", artifact.absolute())
                continue
            await server.stop()
            return False
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
    log.info("%s appeared: loading it", artifact)
    return True


async def serve_model(server: GrpcServer, artifact: Path, load: Callable[[Path], object],
                      install: Callable[[object], None], metrics_port: int, reload_interval_s: float = 0.0,
                      before_serving: Callable[[object], Awaitable[None]] | None = None,
                      gc_freeze: bool = True) -> None:
    """The life of a model-serving process: metrics and gRPC listening (NOT_SERVING), the model
    loaded off the event loop and installed in the servicer, ``before_serving`` awaited with it,
    the long-lived objects frozen out of the garbage collector's full passes (``gc_freeze``,
    services/common/heap.py), SERVING, hot reload of new artifact versions when ``reload_interval_s``
    > 0 (each followed by a freeze), and run until SIGTERM."""
    log.info("metrics on port %d", start_metrics_server(metrics_port, tls=server.security))
    await server.start()
    if (reload_interval_s > 0 and not artifact.exists()
            and not await _wait_for_artifact(server, artifact, reload_interval_s)):
        return  # terminated while waiting
    resolved = artifact.resolve()
    try:
        model = await asyncio.to_thread(load, resolved)
        install(model)
        if before_serving is not None:
            await before_serving(model)
    except BaseException:
        await server.abandon()
        raise
    del model
    if gc_freeze:
        freeze_long_lived()
    await server.mark_serving()
    watcher = None
    if reload_interval_s > 0:
        watcher = asyncio.create_task(watch_artifact(artifact, artifact_version(resolved), load, install,
                                                     reload_interval_s,
                                                     after_install=freeze_long_lived if gc_freeze else None))
    try:
        await server.run_until_terminated()
    finally:
        if watcher:
            watcher.cancel()


async def wait_for_termination() -> None:
    """Return once the process receives SIGTERM or SIGINT (the caller then shuts down gracefully)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
