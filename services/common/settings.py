"""Per-process settings from environment variables, built once in main() and passed down.

| variable | default | meaning |
|---|---|---|
| RECSYS_ARTIFACT | (required) | model artifact directory the service loads |
| RECSYS_HOST | 0.0.0.0 | address to listen on |
| RECSYS_PORT | per service (retrieval 50052) | gRPC port; 0 picks a free one |
| RECSYS_MAX_CANDIDATES | 1000 | largest num_candidates a Retrieve may ask for |
| RECSYS_GRACE_SECONDS | 5 | how long SIGTERM waits for in-flight calls |
| RECSYS_DRAIN_SECONDS | 2 | after SIGTERM, how long health says NOT_SERVING before new calls are refused |
| RECSYS_METRICS_PORT | per service (gateway 9091 ... embedding 9094, all 9090) | Prometheus /metrics port; 0 picks a free one |
| RECSYS_LOG_LEVEL | INFO | logging level |
| RECSYS_RELOAD_SECONDS | 10 | how often to check the artifact for a new version (0: never) |
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PORTS = {"gateway": 50051, "retrieval": 50052, "scoring": 50053, "embedding": 50054}
DEFAULT_METRICS_PORTS = {"gateway": 9091, "retrieval": 9092, "scoring": 9093, "embedding": 9094, "all": 9090}


class SettingsError(ValueError):
    """An environment variable is missing or malformed; the message names it."""


@dataclass(frozen=True)
class ServiceSettings:
    service: str
    artifact: Path
    host: str
    port: int
    max_candidates: int
    grace_seconds: float
    log_level: str
    metrics_port: int = 0
    reload_seconds: float = 0.0
    drain_seconds: float = 0.0

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @classmethod
    def from_env(cls, service: str, env: Mapping[str, str] | None = None) -> "ServiceSettings":
        env = os.environ if env is None else env
        artifact = env.get("RECSYS_ARTIFACT")
        if not artifact:
            raise SettingsError("RECSYS_ARTIFACT must name the model artifact directory to serve")
        return cls(
            service=service,
            artifact=Path(artifact),
            host=env.get("RECSYS_HOST", "0.0.0.0"),
            port=env_int(env, "RECSYS_PORT", DEFAULT_PORTS[service], minimum=0),
            max_candidates=env_int(env, "RECSYS_MAX_CANDIDATES", 1000, minimum=1),
            grace_seconds=float(env_int(env, "RECSYS_GRACE_SECONDS", 5, minimum=0)),
            log_level=env.get("RECSYS_LOG_LEVEL", "INFO").upper(),
            metrics_port=env_int(env, "RECSYS_METRICS_PORT", DEFAULT_METRICS_PORTS[service], minimum=0),
            reload_seconds=float(env_int(env, "RECSYS_RELOAD_SECONDS", 10, minimum=0)),
            drain_seconds=float(env_int(env, "RECSYS_DRAIN_SECONDS", 2, minimum=0)),
        )


def env_int(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    """An integer environment variable with a default and a lower bound; SettingsError names it."""
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got '{raw}'") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
