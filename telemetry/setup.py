"""Process-wide logging and the metrics port: Prometheus /metrics, plus /livez and /readyz for
kubelet probes where the gRPC port speaks TLS (the kubelet's gRPC probe cannot)."""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client import start_http_server

from core.errors import PortInUse
from core.security import Security
from telemetry.gc_pauses import observe_gc_pauses


@dataclass
class Readiness:
    """Whether this process's servers say SERVING (set by services/common/server.py)."""

    ready: bool = False


READINESS = Readiness()


@dataclass
class Liveness:
    """What /livez asks beyond the metrics thread answering: a process may set ``problem`` (the
    operator: whether its event loop still runs tasks), which returns why it is not alive, or None."""

    problem: Callable[[], str | None] | None = None


LIVENESS = Liveness()


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")


def start_metrics_server(port: int, host: str = "0.0.0.0", tls: Security | None = None) -> int:
    """Serve /metrics (over TLS when ``tls`` has certificates); returns the bound port (0 picks a
    free one). A taken port is a startup error naming it, not a traceback."""
    files = {"certfile": str(tls.cert_file), "keyfile": str(tls.key_file)} if tls is not None and tls.tls else {}
    try:
        server, _ = start_http_server(port, addr=host, **files)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        raise PortInUse(f"cannot serve /metrics on {host}:{port}: the port is in use by another process "
                        "(choose another with RECSYS_METRICS_PORT, or stop that server)") from exc
    server.set_app(_metrics_only(server.get_app()))
    observe_gc_pauses()
    return int(server.server_port)


def _metrics_only(app: Callable) -> Callable:
    """prometheus_client answers every path with the metrics, so `/health` on this port said 200
    and misled whoever probed it: other paths are 404 here."""
    def guarded(environ: dict, start_response: Callable) -> list[bytes]:
        path = environ.get("PATH_INFO", "")
        if path in ("/metrics", "/metrics/"):
            return app(environ, start_response)
        text = [("Content-Type", "text/plain; charset=utf-8")]
        if path == "/livez":
            problem = LIVENESS.problem() if LIVENESS.problem else None
            start_response("503 Service Unavailable" if problem else "200 OK", text)
            return [f"not alive: {problem}\n".encode() if problem else b"alive\n"]
        if path == "/readyz":
            start_response("200 OK" if READINESS.ready else "503 Service Unavailable", text)
            return [b"serving\n" if READINESS.ready else b"not serving yet\n"]
        start_response("404 Not Found", text)
        return [b"not found: this port serves /metrics, /livez and /readyz\n"]
    return guarded
