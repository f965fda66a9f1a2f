"""Settings of a model-serving process (retrieval, scoring, embedding), built once in main() from
the environment (and an optional config file, see core/settings.py) and passed down."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from core.env import env_int, env_switch
from core.errors import SettingsError
from core.ports import GRPC_PORTS, METRICS_PORTS
from core.security import SECURITY_SETTINGS, Security
from core.settings import Setting
from events.kafka_tls import KAFKA_TLS_SETTINGS, KafkaTls
from services.common.event_loop import EVENT_LOOP_SETTING, event_loop_choice
from services.common.heap import GC_FREEZE_SETTING

# What every gRPC serving process reads, the gateway included.
SERVER_SETTINGS = (
    Setting("RECSYS_HOST", "0.0.0.0", "address to listen on"),
    Setting("RECSYS_GRACE_SECONDS", "5", "how long SIGTERM waits for in-flight calls"),
    Setting("RECSYS_DRAIN_SECONDS", "2",
            "after SIGTERM, how long at least health says NOT_SERVING (calls still answered) before the "
            "server waits for its clients to leave; 0: stop at once"),
    Setting("RECSYS_MAX_CONNECTION_AGE_SECONDS", "30",
            "clients' connections are closed gracefully after this age, so they reach new pods (and leave "
            "a terminating one: the longest drain is about 1.1 x this + 6 s)"),
    Setting("RECSYS_LOG_LEVEL", "INFO", "logging level"),
    Setting("RECSYS_RELOAD_SECONDS", "10", "how often to check the artifact for a new version (0: never)"),
    Setting("RECSYS_TRACES", "none", "trace exporter: otlp (to OTEL_EXPORTER_OTLP_ENDPOINT), console or none"),
    GC_FREEZE_SETTING,
    EVENT_LOOP_SETTING,
    *SECURITY_SETTINGS,
)

SETTINGS = (
    Setting("RECSYS_ARTIFACT", "", "model artifact directory to serve (required); a missing one is waited for"),
    Setting("RECSYS_PORT", "retrieval 50052, scoring 50053, embedding 50054", "gRPC port; 0 picks a free one"),
    Setting("RECSYS_METRICS_PORT", "retrieval 9092, scoring 9093, embedding 9094",
            "Prometheus /metrics port; 0 picks a free one"),
    Setting("RECSYS_MAX_CANDIDATES", "1000", "most candidates a Retrieve (or items a Score) may ask for"),
    Setting("RECSYS_FOLDIN_MAX_USERS", "from the memory limit",
            "embedding: users whose fresh interactions are remembered, least recently updated forgotten first "
            "(default: a quarter of the container's memory limit at the per-user cost, at most 1,000,000)"),
    Setting("RECSYS_KAFKA_BOOTSTRAP", "",
            "embedding: Kafka bootstrap servers; every replica reads the events topic itself for fresh "
            "interactions (unset: only RecordInteractions calls update users)"),
    *KAFKA_TLS_SETTINGS,
    Setting("RECSYS_EVENTS_TOPIC", "recsys.user-events", "embedding: topic of user events"),
    Setting("RECSYS_CATCHUP_SECONDS", "60",
            "embedding: how long a starting replica reads the events since its model's data before it says "
            "SERVING anyway"),
    *SERVER_SETTINGS,
)


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
    max_connection_age_seconds: float = 30.0
    traces: str = "none"
    foldin_max_users: int = 0  # 0: sized from the memory limit (services/embedding/memory.py)
    kafka_bootstrap: str = ""  # embedding: read fresh interactions from the events topic
    events_topic: str = "recsys.user-events"
    catchup_seconds: float = 60.0
    security: Security = Security()
    kafka_tls: KafkaTls = KafkaTls()
    gc_freeze: bool = True  # services/common/heap.py
    event_loop: str = "uvloop"  # services/common/event_loop.py

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @classmethod
    def from_env(cls, service: str, env: Mapping[str, str] | None = None) -> ServiceSettings:
        env = os.environ if env is None else env
        artifact = env.get("RECSYS_ARTIFACT")
        if not artifact:
            raise SettingsError("RECSYS_ARTIFACT must name the model artifact directory to serve")
        return cls(
            service=service,
            artifact=Path(artifact),
            host=env.get("RECSYS_HOST", "0.0.0.0"),
            port=env_int(env, "RECSYS_PORT", GRPC_PORTS[service], minimum=0),
            max_candidates=env_int(env, "RECSYS_MAX_CANDIDATES", 1000, minimum=1),
            grace_seconds=float(env_int(env, "RECSYS_GRACE_SECONDS", 5, minimum=0)),
            log_level=env.get("RECSYS_LOG_LEVEL", "INFO").upper(),
            metrics_port=env_int(env, "RECSYS_METRICS_PORT", METRICS_PORTS[service], minimum=0),
            reload_seconds=float(env_int(env, "RECSYS_RELOAD_SECONDS", 10, minimum=0)),
            drain_seconds=float(env_int(env, "RECSYS_DRAIN_SECONDS", 2, minimum=0)),
            max_connection_age_seconds=float(env_int(env, "RECSYS_MAX_CONNECTION_AGE_SECONDS", 30, minimum=1)),
            traces=trace_exporter(env),
            foldin_max_users=env_int(env, "RECSYS_FOLDIN_MAX_USERS", 0, minimum=0),
            kafka_bootstrap=env.get("RECSYS_KAFKA_BOOTSTRAP", ""),
            events_topic=env.get("RECSYS_EVENTS_TOPIC") or "recsys.user-events",
            catchup_seconds=float(env_int(env, "RECSYS_CATCHUP_SECONDS", 60, minimum=0)),
            security=Security.from_env(env),
            kafka_tls=KafkaTls.from_env(env),
            gc_freeze=env_switch(env, GC_FREEZE_SETTING.name, default=True),
            event_loop=event_loop_choice(env),
        )


def trace_exporter(env: Mapping[str, str]) -> str:
    choice = env.get("RECSYS_TRACES", "none").lower()
    if choice not in ("otlp", "console", "none"):
        raise SettingsError(f"RECSYS_TRACES must be otlp, console or none, got '{choice}'")
    return choice
