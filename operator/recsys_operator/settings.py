"""The operator process's settings: declared once in ``SETTINGS`` (which also drives
``recsys operator --help`` and its ``--config FILE``), parsed once by ``OperatorSettings.from_env``
in the CLI and passed down; nothing here reads the environment at import time."""

from __future__ import annotations

import fnmatch
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from core.env import env_int
from core.errors import SettingsError
from core.ports import GRPC_PORTS
from core.settings import Setting
from core.traffic_split import BACKENDS, Route

SETTINGS: tuple[Setting, ...] = (
    Setting("RECSYS_OPERATOR_NAMESPACES", "",
            "comma-separated namespaces to serve (unset: the whole cluster)"),
    Setting("RECSYS_ARTIFACTS_ROOT", "/artifacts",
            "the artifacts volume: training results, versions, the stable/canary serving tracks"),
    Setting("RECSYS_ARTIFACTS_CLAIM", "",
            "PersistentVolumeClaim the training Jobs mount at the artifacts root (unset: an emptyDir)"),
    Setting("RECSYS_JOB_SERVICE_ACCOUNT", "", "service account of the training Jobs"),
    Setting("RECSYS_TRAINING_IMAGE", "ghcr.io/recsys-k8s/recsys:latest",
            "image of the training Jobs of RecommenderModels that name none (the chart sets its own image)"),
    Setting("RECSYS_TRAINING_IMAGES", "",
            "comma-separated images (fnmatch patterns, e.g. registry.example.com/recsys:*) a RecommenderModel "
            "may name in training.image (unset: only RECSYS_TRAINING_IMAGE): creating one must not run an "
            "arbitrary image next to the artifacts volume"),
    Setting("RECSYS_TRAFFIC_SPLIT_CONFIGMAP", "{model}-traffic-split",
            "ConfigMap (key routes.json) holding a model's traffic split"),
    Setting("RECSYS_ROUTE_TEMPLATE", "recsys-{service}-{track}:{port}",
            "backend address of a serving track ({service}, {track}: stable/canary, {port})"),
    Setting("RECSYS_DATABASE_URL", "",
            "the store: online metrics for canary analysis and the model registry "
            "(unset: canaries advance on schedule)"),
    Setting("RECSYS_DATABASE_SECRET", "",
            "Secret holding that URL, as NAME or NAME/KEY (key default 'url'): training Jobs then read it "
            "from the Secret instead of getting it in plain text"),
    Setting("RECSYS_DATABASE_CA_SECRET", "",
            "Secret whose ca.crt signed the database's server certificate: training Jobs mount it and require "
            "TLS with the server's name checked (libpq's PGSSLMODE=verify-full); the operator's own connection "
            "takes the same from its environment"),
    Setting("RECSYS_OPERATOR_INTERVAL_SECONDS", "5", "how often each resource's state machine is advanced"),
    Setting("RECSYS_OPERATOR_PEERING", "recsys-operator",
            "kopf peering object (the highest-priority replica acts); 'none': no peering"),
    Setting("RECSYS_OPERATOR_PRIORITY", "100", "this replica's peering priority"),
    Setting("RECSYS_OPERATOR_LIVENESS", "", "kopf liveness endpoint, e.g. http://0.0.0.0:8080/healthz"),
    Setting("RECSYS_METRICS_PORT", "9096", "Prometheus /metrics port; 0 picks a free one, negative: off"),
    Setting("RECSYS_LOG_LEVEL", "INFO", "logging level; DEBUG makes kopf verbose"),
    Setting("RECSYS_TLS_DIR", "", "tls.crt and tls.key for the metrics port (HTTPS); unset: plain HTTP"),
)
_DEFAULTS = {s.name: s.default for s in SETTINGS}
_ANY_INT = -(2**63)  # env_int's lower bound where any integer is accepted
_LOG_LEVELS = tuple(logging.getLevelNamesMapping())  # what logging (and so the services) accepts


@dataclass(frozen=True)
class OperatorSettings:
    artifacts_root: Path = Path("/artifacts")
    artifacts_claim: str | None = None
    job_service_account: str | None = None
    training_image: str = "ghcr.io/recsys-k8s/recsys:latest"
    training_images: tuple[str, ...] = ()  # fnmatch patterns; empty: training_image only
    split_configmap: str = "{model}-traffic-split"
    route_template: str = "recsys-{service}-{track}:{port}"
    database_url: str | None = None
    database_secret: tuple[str, str] | None = None  # (Secret name, key) holding database_url
    database_ca_secret: str | None = None  # Secret with ca.crt: training Jobs verify the database with it
    interval_s: float = 5.0
    namespaces: tuple[str, ...] = ()  # empty: the whole cluster
    peering: str = "recsys-operator"  # "none": no peering
    priority: int = 100
    liveness: str | None = None
    metrics_port: int = 9096  # negative: no metrics server
    log_level: str = "INFO"
    metrics_tls_dir: Path | None = None  # tls.crt and tls.key: /metrics over HTTPS

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> OperatorSettings:
        """Parse the ``SETTINGS`` variables (the environment, or ``effective_environment(...)`` with a
        config file underneath it); SettingsError names the variable at fault."""

        def text(name: str) -> str:
            return env.get(name) or _DEFAULTS[name]

        metrics_port = env_int(env, "RECSYS_METRICS_PORT", int(_DEFAULTS["RECSYS_METRICS_PORT"]), minimum=_ANY_INT)
        if metrics_port > 65535:
            raise SettingsError(f"RECSYS_METRICS_PORT must be a port (at most 65535) or negative, got {metrics_port}")
        log_level = text("RECSYS_LOG_LEVEL")
        if log_level.upper() not in _LOG_LEVELS:
            raise SettingsError(f"RECSYS_LOG_LEVEL must be one of {', '.join(_LOG_LEVELS)}, got '{log_level}'")
        return cls(
            artifacts_root=Path(text("RECSYS_ARTIFACTS_ROOT")),
            artifacts_claim=env.get("RECSYS_ARTIFACTS_CLAIM") or None,
            job_service_account=env.get("RECSYS_JOB_SERVICE_ACCOUNT") or None,
            training_image=text("RECSYS_TRAINING_IMAGE"),
            training_images=tuple(i.strip() for i in env.get("RECSYS_TRAINING_IMAGES", "").split(",") if i.strip()),
            split_configmap=_template(env, "RECSYS_TRAFFIC_SPLIT_CONFIGMAP", model="m"),
            route_template=_template(env, "RECSYS_ROUTE_TEMPLATE", service="scoring", track="stable", port=1),
            database_url=env.get("RECSYS_DATABASE_URL") or None,
            database_secret=_secret_ref(env.get("RECSYS_DATABASE_SECRET") or ""),
            database_ca_secret=env.get("RECSYS_DATABASE_CA_SECRET") or None,
            interval_s=_positive_float(env, "RECSYS_OPERATOR_INTERVAL_SECONDS"),
            namespaces=tuple(n.strip() for n in env.get("RECSYS_OPERATOR_NAMESPACES", "").split(",") if n.strip()),
            peering=text("RECSYS_OPERATOR_PEERING"),
            priority=env_int(env, "RECSYS_OPERATOR_PRIORITY", int(_DEFAULTS["RECSYS_OPERATOR_PRIORITY"]),
                             minimum=_ANY_INT),
            liveness=env.get("RECSYS_OPERATOR_LIVENESS") or None,
            metrics_port=metrics_port,
            log_level=log_level.upper(),
            metrics_tls_dir=Path(env["RECSYS_TLS_DIR"]) if env.get("RECSYS_TLS_DIR") else None,
        )

    @property
    def peering_mandatory(self) -> bool:
        return self.peering != "none"

    def image_allowed(self, image: str) -> bool:
        """Whether a RecommenderModel may run its training Job in ``image``."""
        return image == self.training_image or any(fnmatch.fnmatchcase(image, p) for p in self.training_images)

    def split_name(self, model: str) -> str:
        return self.split_configmap.format(model=model)

    def route(self, name: str, track: str, weight: float) -> Route:
        """One traffic-split route (core/traffic_split.py) for a serving track."""
        return Route(name=name, weight=weight,
                     **{service: self.route_template.format(service=service, track=track, port=GRPC_PORTS[service])
                        for service in BACKENDS})


def _positive_float(env: Mapping[str, str], name: str) -> float:
    raw = env.get(name) or _DEFAULTS[name]
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got '{raw}'") from None
    if not math.isfinite(value) or value <= 0:
        raise SettingsError(f"{name} must be positive, got {raw}")
    return value


def _template(env: Mapping[str, str], name: str, **fields: object) -> str:
    """A str.format template that may use only ``fields`` (a typo fails at startup, not mid-rollout)."""
    template = env.get(name) or _DEFAULTS[name]
    try:
        template.format(**fields)
    except (KeyError, IndexError, ValueError) as error:
        allowed = ", ".join("{" + field + "}" for field in fields)
        raise SettingsError(f"{name} '{template}' may use only {allowed} ({error!r})") from None
    return template



def _secret_ref(value: str) -> tuple[str, str] | None:
    if not value:
        return None
    name, _, key = value.partition("/")
    if not name or "/" in key:
        raise SettingsError(f"RECSYS_DATABASE_SECRET must be NAME or NAME/KEY, got '{value}'")
    return name, key or "url"
