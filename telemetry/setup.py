"""Process-wide logging and the Prometheus /metrics endpoint."""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable

from prometheus_client import start_http_server

from core.errors import PortInUse


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")


def start_metrics_server(port: int, host: str = "0.0.0.0") -> int:
    """Serve /metrics; returns the bound port (0 picks a free one). A taken port is a startup error
    naming it, not a traceback."""
    try:
        server, _ = start_http_server(port, addr=host)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        raise PortInUse(f"cannot serve /metrics on {host}:{port}: the port is in use by another process "
                        "(choose another with RECSYS_METRICS_PORT, or stop that server)") from exc
    server.set_app(_metrics_only(server.get_app()))
    return int(server.server_port)


def _metrics_only(app: Callable) -> Callable:
    """prometheus_client answers every path with the metrics, so `/health` on this port said 200
    and misled whoever probed it: other paths are 404 here."""
    def guarded(environ: dict, start_response: Callable) -> list[bytes]:
        if environ.get("PATH_INFO", "") in ("/metrics", "/metrics/"):
            return app(environ, start_response)
        start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
        return [b"not found: this port serves Prometheus metrics at /metrics only\n"]
    return guarded
