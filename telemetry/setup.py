"""Process-wide logging and the Prometheus /metrics endpoint."""

from __future__ import annotations

import errno
import logging

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
    return int(server.server_port)
