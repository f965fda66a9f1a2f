"""Operator settings from environment variables (built once at startup).

| variable | default | meaning |
|---|---|---|
| RECSYS_ARTIFACTS_ROOT | /artifacts | where training Jobs write artifacts; the operator reads results and flips the serving symlinks here |
| RECSYS_ARTIFACTS_CLAIM | (unset) | PersistentVolumeClaim mounted at the artifacts root in training Jobs (unset: an emptyDir, for tests) |
| RECSYS_JOB_SERVICE_ACCOUNT | (unset) | service account of the training Jobs |
| RECSYS_TRAFFIC_SPLIT_CONFIGMAP | {model}-traffic-split | name of the ConfigMap (key routes.json) the gateway serving a model reads its split from |
| RECSYS_ROUTE_TEMPLATE | recsys-{service}-{track}:{port} | address of a serving track's backend ({service}, {track}: stable/canary, {port}) |
| RECSYS_DATABASE_URL | (unset) | the store, for online metrics during canary analysis |
| RECSYS_OPERATOR_INTERVAL_SECONDS | 5 | how often each resource's state machine is advanced |
| RECSYS_METRICS_PORT | 9096 | Prometheus /metrics (recsys_operator_transitions_total, recsys_operator_canary_weight); -1: off |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

SERVICE_PORTS = {"embedding": 50054, "retrieval": 50052, "scoring": 50053}


@dataclass(frozen=True)
class OperatorSettings:
    artifacts_root: Path = Path("/artifacts")
    artifacts_claim: str | None = None
    job_service_account: str | None = None
    split_configmap: str = "{model}-traffic-split"
    route_template: str = "recsys-{service}-{track}:{port}"
    database_url: str | None = None
    interval_s: float = 5.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "OperatorSettings":
        env = os.environ if env is None else env
        interval = float(env.get("RECSYS_OPERATOR_INTERVAL_SECONDS", "5"))
        if interval <= 0:
            raise ValueError(f"RECSYS_OPERATOR_INTERVAL_SECONDS must be positive, got {interval}")
        return cls(artifacts_root=Path(env.get("RECSYS_ARTIFACTS_ROOT", "/artifacts")),
                   artifacts_claim=env.get("RECSYS_ARTIFACTS_CLAIM") or None,
                   job_service_account=env.get("RECSYS_JOB_SERVICE_ACCOUNT") or None,
                   split_configmap=env.get("RECSYS_TRAFFIC_SPLIT_CONFIGMAP", "{model}-traffic-split"),
                   route_template=env.get("RECSYS_ROUTE_TEMPLATE", "recsys-{service}-{track}:{port}"),
                   database_url=env.get("RECSYS_DATABASE_URL") or None, interval_s=interval)

    def split_name(self, model: str) -> str:
        return self.split_configmap.format(model=model)

    def route(self, name: str, track: str, weight: float) -> dict[str, object]:
        """One traffic-split route (services/gateway/split.py's format) for a serving track."""
        return {"name": name, "weight": weight,
                **{service: self.route_template.format(service=service, track=track, port=port)
                   for service, port in SERVICE_PORTS.items()}}
