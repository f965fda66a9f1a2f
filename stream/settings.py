"""The stream processor's settings, built once from the environment (and an optional config file,
see core/settings.py) and passed down."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from core.env import env_int
from core.errors import SettingsError
from core.security import Security
from core.settings import Setting
from events.bus import TOPIC_SETTINGS, Topics
from events.kafka_tls import KAFKA_TLS_SETTINGS, KafkaTls
from stream.config import ProcessorConfig

SETTINGS = (
    Setting("RECSYS_KAFKA_BOOTSTRAP", "", "Kafka bootstrap servers, host:port[,host:port] (required)"),
    *KAFKA_TLS_SETTINGS,
    Setting("RECSYS_DATABASE_URL", "sqlite:///artifacts/recsys.db", "the store (postgresql://... in production)"),
    Setting("RECSYS_STREAM_GROUP", "recsys-stream", "consumer group"),
    Setting("RECSYS_KAFKA_SESSION_TIMEOUT_MS", "10000",
            "how soon the group notices a dead member (its partitions move on)"),
    Setting("RECSYS_STREAM_INSTANCE_ID", "",
            "static group membership: a restart under the same id gets its partitions back at once"),
    Setting("RECSYS_STREAM_MAX_BATCH", "5000", "most records per batch (one transaction)"),
    Setting("RECSYS_STREAM_POLL_MS", "50",
            "longest wait for a first record (then the batch takes what is already fetched)"),
    Setting("RECSYS_MAX_EVENT_BYTES", "16384", "larger events go to the dead-letter topic"),
    Setting("RECSYS_ONLINE_WINDOW_SECONDS", "10", "online metrics window"),
    *TOPIC_SETTINGS,
    Setting("RECSYS_METRICS_PORT", "9095", "Prometheus /metrics port; 0 picks a free one"),
    Setting("RECSYS_LOG_LEVEL", "INFO", "logging level"),
    Setting("RECSYS_TLS_DIR", "", "tls.crt and tls.key for the metrics port (HTTPS); unset: plain HTTP"),
)


@dataclass(frozen=True)
class StreamSettings:
    bootstrap: str
    database_url: str
    group: str
    session_timeout_ms: int
    instance_id: str | None
    topics: Topics
    processor: ProcessorConfig
    metrics_port: int
    log_level: str
    security: Security = Security()
    kafka_tls: KafkaTls = KafkaTls()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> StreamSettings:
        env = os.environ if env is None else env
        bootstrap = env.get("RECSYS_KAFKA_BOOTSTRAP", "")
        if not bootstrap:
            raise SettingsError("RECSYS_KAFKA_BOOTSTRAP must name the Kafka bootstrap servers (host:port)")
        from store.db import database_url

        return cls(
            bootstrap=bootstrap,
            database_url=database_url(env.get("RECSYS_DATABASE_URL")),
            group=env.get("RECSYS_STREAM_GROUP", "recsys-stream"),
            session_timeout_ms=env_int(env, "RECSYS_KAFKA_SESSION_TIMEOUT_MS", 10000, minimum=1000),
            instance_id=env.get("RECSYS_STREAM_INSTANCE_ID") or None,
            topics=Topics.from_env(env),
            processor=ProcessorConfig(
                max_batch=env_int(env, "RECSYS_STREAM_MAX_BATCH", 5000, minimum=1),
                poll_timeout_s=env_int(env, "RECSYS_STREAM_POLL_MS", 50, minimum=1) / 1000,
                max_event_bytes=env_int(env, "RECSYS_MAX_EVENT_BYTES", 16384, minimum=64),
                window_s=env_int(env, "RECSYS_ONLINE_WINDOW_SECONDS", 10, minimum=1)),
            metrics_port=env_int(env, "RECSYS_METRICS_PORT", 9095, minimum=0),
            log_level=env.get("RECSYS_LOG_LEVEL", "INFO").upper(),
            security=Security.from_env({"RECSYS_TLS_DIR": env.get("RECSYS_TLS_DIR", "")}),
            kafka_tls=KafkaTls.from_env(env),
        )
