"""An HTTP server stopped (SIGTERM) while keep-alive clients call it through a Service address fails
none of their requests: /ready says 503, each response asks its client to close the connection, the
clients reconnect (the stand-in for kube-proxy sends them to the other replica), and only then does
the server stop."""

from __future__ import annotations

import asyncio
import http.client
import threading
import time
from collections import Counter

from fastapi import FastAPI
from servers import ServiceProxy

from services.http.app import create_app
from services.http.server import HttpServer


def _app(name: str) -> FastAPI:
    app = FastAPI()

    @app.get("/who")
    async def who() -> dict:
        await asyncio.sleep(0.002)  # some work, so requests are in flight when the stop begins
        return {"name": name}

    return app


class ServingGateway:
    """A stand-in for the gateway behind the app: always ready (no models needed here)."""

    async def ready(self) -> bool:
        return True

    async def close(self) -> None:
        return None


class Clients:
    """``count`` keep-alive clients (http.client, which reconnects when told to close) calling
    GET /who in a loop; answers by replica and failures by kind."""

    def __init__(self, port: int, count: int = 8) -> None:
        self.port = port
        self.answers: Counter = Counter()
        self.failures: Counter = Counter()
        self._running = True
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._client, daemon=True) for _ in range(count)]
        for thread in self._threads:
            thread.start()

    def _client(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        while self._running:
            try:
                connection.request("GET", "/who")
                response = connection.getresponse()
                body = response.read()
                outcome, counter = (body.decode(), self.answers) if response.status == 200 \
                    else (f"HTTP {response.status}", self.failures)
            except (OSError, http.client.HTTPException) as error:
                outcome, counter = type(error).__name__, self.failures
                connection.close()
            with self._lock:
                counter["a" if '"a"' in outcome else "b" if '"b"' in outcome else outcome] += 1
        connection.close()

    def snapshot(self) -> Counter:
        with self._lock:
            return Counter(self.answers)

    def stop(self) -> None:
        self._running = False
        for thread in self._threads:
            thread.join(timeout=30)


def test_an_http_server_stopped_under_load_behind_a_service_address_fails_no_request():
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def run(coroutine, timeout_s: float = 60):
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout=timeout_s)

    servers = {name: HttpServer(_app(name), "127.0.0.1", 0, grace_s=5.0, drain_delay_s=0.5) for name in "ab"}
    ports = {name: run(server.start()) for name, server in servers.items()}
    proxy = ServiceProxy(list(ports.values()))
    clients = Clients(run(proxy.start()))
    try:
        time.sleep(1.0)
        before = clients.snapshot()
        proxy.ready.remove(ports["a"])  # the terminating pod leaves the Service's endpoints
        run(servers["a"].stop())  # what SIGTERM does
        after_stop = clients.snapshot()
        time.sleep(1.0)
    finally:
        clients.stop()
        run(servers["b"].stop())
        run(proxy.close())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
    assert before["a"] > 0 and before["b"] > 0, before
    assert not clients.failures, clients.failures
    assert clients.answers["a"] == after_stop["a"] and clients.answers["b"] > after_stop["b"], clients.answers


def test_ready_says_503_and_every_response_closes_its_connection_while_the_server_drains():
    async def scenario() -> tuple[tuple[int, str | None], tuple[int, str | None]]:
        server = HttpServer(create_app(ServingGateway()), "127.0.0.1", 0, drain_delay_s=1.0)
        port = await server.start()

        def status() -> tuple[int, str | None]:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", "/ready")
            response = connection.getresponse()
            response.read()
            connection.close()
            return response.status, response.getheader("connection")

        ready_before = await asyncio.to_thread(status)
        stopping = asyncio.create_task(server.stop())
        await asyncio.sleep(0.3)
        during = await asyncio.to_thread(status)
        await stopping
        return ready_before, during

    before, during = asyncio.run(scenario())
    assert before == (200, None) and during == (503, "close")


def test_the_load_generator_reconnects_when_a_draining_server_closes_its_connection():
    from cli.loadtest import HttpTransport

    async def scenario() -> tuple[int, int, list[int]]:
        server = HttpServer(_app("a"), "127.0.0.1", 0, drain_delay_s=2.0)
        port = await server.start()
        transport = HttpTransport(f"http://127.0.0.1:{port}")
        statuses = [(await transport._request("GET", "/who", b"", 10))[0] for _ in range(3)]
        kept = transport.opened  # keep-alive: one connection for all three
        stopping = asyncio.create_task(server.stop())
        await asyncio.sleep(0.2)
        statuses += [(await transport._request("GET", "/who", b"", 10))[0] for _ in range(3)]
        # each answer said Connection: close: the first went over the kept connection, the
        # next two each on a new one
        reopened = transport.opened - kept
        await stopping
        return kept, reopened, statuses

    kept, reopened, statuses = asyncio.run(scenario())
    assert statuses == [200] * 6 and kept == 1 and reopened == 2
