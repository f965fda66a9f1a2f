"""Runs the HTTP app with uvicorn inside an existing asyncio loop (beside the gRPC servers of
`serve all`), on a socket bound here so that a taken port is the same clear startup error as for
the gRPC servers. Signals stay with the process that owns the loop; it calls :meth:`stop`, which
drains like the gRPC servers do (services/common/drain.py): `/ready` says 503, every response
asks its client to close the connection (so a keep-alive client reconnects, through the Service, to
another pod), and the server stops once no request has arrived for a moment."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
from collections.abc import Generator

import uvicorn

from core.errors import PortInUse
from core.security import Security
from services.common.drain import Activity, wait_for_clients_to_leave
from services.common.server import say_security

log = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # the owner of the event loop handles SIGTERM/SIGINT and calls HttpServer.stop


PROBES = ("/health", "/ready")  # the kubelet's, every few seconds: not a client's work
# keep-alive clients are told to close after their next response; one that keeps reconnecting here
# (nothing in front to send it elsewhere) is given this long before the server stops anyway
DRAIN_LIMIT_S = 30.0


class Draining:
    """ASGI wrapper: notes when requests arrive (probes aside) and, while the server drains, adds
    ``Connection: close`` to every response."""

    def __init__(self, app) -> None:
        self.app = app
        self.activity = Activity()
        self.on = False

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] not in PROBES:
            self.activity.touch()
        if not self.on:
            await self.app(scope, receive, send)
            return

        async def closing(message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"connection"]
                message = {**message, "headers": [*headers, (b"connection", b"close")]}
            await send(message)

        await self.app(scope, receive, closing)


class HttpServer:
    def __init__(self, app, host: str, port: int, grace_s: float = 5.0, reuse_port: bool = False,
                 security: Security = Security(), drain_delay_s: float = 0.0) -> None:
        self.host, self.requested_port, self.reuse_port = host, port, reuse_port
        self.security = security
        self.drain_delay_s = drain_delay_s
        self.port = 0
        self.app = app
        self._draining = Draining(app)
        # HTTPS only, no client certificates: browsers call this port (mutual TLS is for gRPC hops)
        tls = {"ssl_certfile": str(security.cert_file), "ssl_keyfile": str(security.key_file)} if security.tls else {}
        config = uvicorn.Config(self._draining, http="httptools", lifespan="off", access_log=False, log_level="warning",
                                timeout_graceful_shutdown=int(max(1, grace_s)), server_header=False, **tls)
        self._server = _Server(config)
        self._task: asyncio.Task | None = None

    async def start(self) -> int:
        # IPPROTO_TCP named: asyncio turns Nagle off (TCP_NODELAY) only on sockets that say they are
        # TCP, and with it on, each keep-alive response waited ~40 ms for the client's delayed ACK
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET, socket.SOCK_STREAM,
                             socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT only
        if self.reuse_port:  # serve all's RECSYS_WORKERS share the port, like their gRPC ports
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        try:
            sock.bind((self.host, self.requested_port))
        except OSError as exc:
            sock.close()
            if exc.errno != errno.EADDRINUSE:
                raise
            raise PortInUse(f"cannot serve HTTP on {self.host}:{self.requested_port}: the port is in use by another "
                            "process (choose another with RECSYS_HTTP_PORT, or stop that server)") from exc
        sock.listen(2048)
        sock.setblocking(False)
        self.port = sock.getsockname()[1]
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raises what stopped it
                raise RuntimeError("the HTTP server stopped while starting")
            await asyncio.sleep(0.01)
        scheme = "https" if self.security.tls else "http"
        log.info("HTTP on port %d: the web interface at %s://%s:%d/ and the API docs at /docs", self.port, scheme,
                 "localhost" if self.host in ("0.0.0.0", "::") else self.host, self.port)
        say_security(self.security)
        return self.port

    async def stop(self) -> None:
        """Drain (with ``drain_delay_s`` > 0: not ready, connections closed after their next
        response, until no request has arrived for a moment), then stop accepting, let requests in
        flight finish (up to the grace period), close."""
        if self._task is None:
            return
        if self.drain_delay_s > 0:
            self._draining.on = True
            state = getattr(self.app, "state", None)
            if state is not None:
                state.draining = True  # /ready answers 503 (services/http/app.py)
            await wait_for_clients_to_leave(self._draining.activity, self.drain_delay_s,
                                            self.drain_delay_s + DRAIN_LIMIT_S)
        self._server.should_exit = True
        await self._task
        self._task = None
