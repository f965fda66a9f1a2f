"""Settings of `recsys serve http`, apart from the app so that `recsys --help` stays light."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from core.env import env_int
from core.security import SECURITY_SETTINGS, Security
from core.settings import Setting
from events.kafka_tls import KAFKA_TLS_SETTINGS, KafkaTls
from services.common.event_loop import EVENT_LOOP_SETTING, event_loop_choice
from services.common.settings import trace_exporter

HTTP_PORT = 8080
METRICS_PORT = 9097

SETTINGS = (
    Setting("RECSYS_HTTP_PORT", str(HTTP_PORT), "HTTP port of the API and web interface; 0 picks a free one"),
    Setting("RECSYS_GATEWAY_ADDR", "localhost:50051", "the gateway's gRPC address (host:port, DNS: every address)"),
    Setting("RECSYS_HTTP_TIMEOUT_MS", "2000", "deadline of each call to the gateway"),
    Setting("RECSYS_KAFKA_BOOTSTRAP", "", "Kafka bootstrap servers for POST /events (unset: it answers 501)"),
    Setting("RECSYS_EVENTS_TOPIC", "recsys.user-events", "topic POST /events publishes to"),
    *KAFKA_TLS_SETTINGS,
    Setting("RECSYS_HOST", "0.0.0.0", "address to listen on"),
    Setting("RECSYS_METRICS_PORT", str(METRICS_PORT), "Prometheus /metrics port; 0 picks a free one"),
    Setting("RECSYS_DRAIN_SECONDS", "2",
            "after SIGTERM, how long at least /ready says 503 while requests are still answered (each "
            "response closing its connection), before the server waits for its clients to leave; 0: stop at once"),
    Setting("RECSYS_GRACE_SECONDS", "5", "then, how long SIGTERM waits for requests in flight"),
    Setting("RECSYS_LOG_LEVEL", "INFO", "logging level"),
    Setting("RECSYS_TRACES", "none", "trace exporter: otlp (to OTEL_EXPORTER_OTLP_ENDPOINT), console or none"),
    EVENT_LOOP_SETTING,
    *SECURITY_SETTINGS,
)


@dataclass(frozen=True)
class HttpSettings:
    host: str
    port: int
    gateway: str
    timeout_s: float
    kafka_bootstrap: str
    events_topic: str
    metrics_port: int
    grace_seconds: float
    log_level: str
    traces: str
    security: Security = Security()
    drain_seconds: float = 0.0
    kafka_tls: KafkaTls = KafkaTls()
    event_loop: str = "uvloop"  # services/common/event_loop.py

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> HttpSettings:
        env = os.environ if env is None else env
        return cls(host=env.get("RECSYS_HOST", "0.0.0.0"), port=env_int(env, "RECSYS_HTTP_PORT", HTTP_PORT, minimum=0),
                   gateway=env.get("RECSYS_GATEWAY_ADDR") or "localhost:50051",
                   timeout_s=env_int(env, "RECSYS_HTTP_TIMEOUT_MS", 2000, minimum=1) / 1000,
                   kafka_bootstrap=env.get("RECSYS_KAFKA_BOOTSTRAP", ""),
                   events_topic=env.get("RECSYS_EVENTS_TOPIC") or "recsys.user-events",
                   metrics_port=env_int(env, "RECSYS_METRICS_PORT", METRICS_PORT, minimum=0),
                   grace_seconds=float(env_int(env, "RECSYS_GRACE_SECONDS", 5, minimum=0)),
                   log_level=env.get("RECSYS_LOG_LEVEL", "INFO").upper(), traces=trace_exporter(env),
                   security=Security.from_env(env),
                   drain_seconds=float(env_int(env, "RECSYS_DRAIN_SECONDS", 2, minimum=0)),
                   kafka_tls=KafkaTls.from_env(env), event_loop=event_loop_choice(env))
