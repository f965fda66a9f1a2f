"""Process-wide logging and the Prometheus /metrics endpoint."""

from __future__ import annotations

import logging

from prometheus_client import start_http_server


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")


def start_metrics_server(port: int, host: str = "0.0.0.0") -> int:
    """Serve /metrics; returns the bound port (0 picks a free one)."""
    server, _ = start_http_server(port, addr=host)
    return int(server.server_port)
