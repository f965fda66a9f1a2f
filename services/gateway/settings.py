"""Gateway settings, built once in main() from the environment (and an optional config file, see
core/settings.py) and passed down."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from core.env import env_int, env_switch
from core.errors import SettingsError
from core.ports import GRPC_PORTS, METRICS_PORTS
from core.security import Security
from core.settings import Setting
from services.common.event_loop import event_loop_choice
from services.common.heap import GC_FREEZE_SETTING
from services.common.settings import SERVER_SETTINGS, trace_exporter

SETTINGS = (
    Setting("RECSYS_ARTIFACT", "",
            "artifact whose catalogue and popularity the gateway serves and falls back on (required)"),
    Setting("RECSYS_PORT", "50051", "gRPC port; 0 picks a free one"),
    Setting("RECSYS_METRICS_PORT", "9091", "Prometheus /metrics port; 0 picks a free one"),
    Setting("RECSYS_EMBEDDING_ADDR", "localhost:50054", "embedding service"),
    Setting("RECSYS_RETRIEVAL_ADDR", "localhost:50052", "retrieval service"),
    Setting("RECSYS_SCORING_ADDR", "localhost:50053", "scoring service"),
    Setting("RECSYS_DEADLINE_MS", "250", "deadline of each backend call"),
    Setting("RECSYS_MAX_K", "100", "largest k a Recommend may ask for"),
    Setting("RECSYS_CANDIDATES", "200", "candidates retrieved per request before scoring (at least RECSYS_MAX_K)"),
    Setting("RECSYS_BLEND_WEIGHT", "0.5", "weight of the retrieval rank against the NCF rank (0..1)"),
    Setting("RECSYS_TRAFFIC_SPLIT", "",
            "JSON file of weighted routes (core/traffic_split.py); unset: one route, the three addresses above"),
    Setting("RECSYS_SPLIT_RELOAD_SECONDS", "2", "how often the split file is checked for changes"),
    Setting("RECSYS_DATABASE_URL", "", "the store, for ListUserInteractions and the model registry in ListModels"),
    Setting("RECSYS_SYSTEM_INFO_BACKENDS", "off",
            "on: GetSystemInfo lists the backends' internal addresses to callers with a token (or to anyone "
            "when RECSYS_AUTH_TOKENS is unset; a debugging aid: off, the default, keeps the network layout "
            "from every caller)"),
    *SERVER_SETTINGS,
)


@dataclass(frozen=True)
class GatewaySettings:
    artifact: Path
    host: str
    port: int
    embedding_addr: str
    retrieval_addr: str
    scoring_addr: str
    deadline_s: float
    max_k: int
    candidates: int
    blend_weight: float
    grace_seconds: float
    log_level: str
    metrics_port: int = 0
    reload_seconds: float = 0.0
    drain_seconds: float = 0.0
    max_connection_age_seconds: float = 30.0
    traffic_split: Path | None = None
    split_reload_seconds: float = 2.0
    database_url: str | None = None
    traces: str = "none"
    system_info_backends: bool = False
    security: Security = Security()
    gc_freeze: bool = True  # services/common/heap.py
    event_loop: str = "uvloop"  # services/common/event_loop.py

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> GatewaySettings:
        env = os.environ if env is None else env
        if not env.get("RECSYS_ARTIFACT"):
            raise SettingsError("RECSYS_ARTIFACT must name the artifact whose catalogue the gateway serves")
        weight_raw = env.get("RECSYS_BLEND_WEIGHT", "0.5")
        try:
            weight = float(weight_raw)
        except ValueError:
            raise SettingsError(f"RECSYS_BLEND_WEIGHT must be a number, got '{weight_raw}'") from None
        if not 0.0 <= weight <= 1.0:
            raise SettingsError(f"RECSYS_BLEND_WEIGHT must be within 0..1, got {weight}")
        max_k = env_int(env, "RECSYS_MAX_K", 100, minimum=1)
        candidates = env_int(env, "RECSYS_CANDIDATES", 200, minimum=1)
        if candidates < max_k:
            raise SettingsError(f"RECSYS_CANDIDATES ({candidates}) must be at least RECSYS_MAX_K ({max_k})")
        return cls(
            artifact=Path(env["RECSYS_ARTIFACT"]),
            host=env.get("RECSYS_HOST", "0.0.0.0"),
            port=env_int(env, "RECSYS_PORT", GRPC_PORTS["gateway"], minimum=0),
            embedding_addr=env.get("RECSYS_EMBEDDING_ADDR", f"localhost:{GRPC_PORTS['embedding']}"),
            retrieval_addr=env.get("RECSYS_RETRIEVAL_ADDR", f"localhost:{GRPC_PORTS['retrieval']}"),
            scoring_addr=env.get("RECSYS_SCORING_ADDR", f"localhost:{GRPC_PORTS['scoring']}"),
            deadline_s=env_int(env, "RECSYS_DEADLINE_MS", 250, minimum=1) / 1000.0,
            max_k=max_k,
            candidates=candidates,
            blend_weight=weight,
            grace_seconds=float(env_int(env, "RECSYS_GRACE_SECONDS", 5, minimum=0)),
            log_level=env.get("RECSYS_LOG_LEVEL", "INFO").upper(),
            metrics_port=env_int(env, "RECSYS_METRICS_PORT", METRICS_PORTS["gateway"], minimum=0),
            reload_seconds=float(env_int(env, "RECSYS_RELOAD_SECONDS", 10, minimum=0)),
            drain_seconds=float(env_int(env, "RECSYS_DRAIN_SECONDS", 2, minimum=0)),
            max_connection_age_seconds=float(env_int(env, "RECSYS_MAX_CONNECTION_AGE_SECONDS", 30, minimum=1)),
            traffic_split=Path(env["RECSYS_TRAFFIC_SPLIT"]) if env.get("RECSYS_TRAFFIC_SPLIT") else None,
            split_reload_seconds=float(env_int(env, "RECSYS_SPLIT_RELOAD_SECONDS", 2, minimum=1)),
            database_url=env.get("RECSYS_DATABASE_URL") or None,
            traces=trace_exporter(env),
            system_info_backends=env_switch(env, "RECSYS_SYSTEM_INFO_BACKENDS"),
            security=Security.from_env(env),
            gc_freeze=env_switch(env, GC_FREEZE_SETTING.name, default=True),
            event_loop=event_loop_choice(env),
        )
