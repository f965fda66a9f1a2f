"""Pure functions from a RecommenderModel to the objects the operator creates (unit-tested alone)."""

from __future__ import annotations

import json
from typing import Any

from core.traffic_split import Route, TrafficSplit
from recsys_operator import GROUP
from recsys_operator.settings import OperatorSettings

# spec.hyperparameters (camelCase, the CRD's) -> TrainConfig fields (what the Job entrypoint takes)
HYPERPARAMETERS = {"epochs": "epochs", "learningRate": "lr", "batchSize": "batch_size",
                   "embeddingDim": "embedding_dim", "numLayers": "n_layers", "mlpLayers": "layers",
                   "negatives": "num_negatives", "regularization": "reg", "seed": "seed", "loss": "loss",
                   "temperature": "temperature", "learningRateSchedule": "lr_schedule",
                   "recentItemWeight": "recent_item_weight", "hardNegatives": "hard_negatives",
                   "recencyWeight": "recency_weight", "recencyShape": "recency_shape"}
DATABASE_CA_DIR = "/etc/recsys/database-ca"
MODEL_LABEL = f"{GROUP}/model"
VERSION_LABEL = f"{GROUP}/version"


def version_name(name: str, generation: int) -> str:
    """One trained version per spec generation: a spec change trains a new version."""
    return f"{name}-g{generation}"


def job_name(version: str) -> str:
    return f"train-{version}"[:63].rstrip("-")


def artifact_dir(settings: OperatorSettings, name: str, version: str):
    return settings.artifacts_root / name / version


def job_environment(spec: dict[str, Any], settings: OperatorSettings, name: str, version: str) -> dict[str, str]:
    hyper = {HYPERPARAMETERS[k]: v for k, v in (spec.get("hyperparameters") or {}).items() if k in HYPERPARAMETERS}
    evaluation = spec.get("evaluation") or {}
    dataset = spec["dataset"]
    uri = dataset["uri"]
    env = {
        "RECSYS_JOB_MODEL": spec["algorithm"],
        "RECSYS_JOB_HYPERPARAMETERS": json.dumps(hyper, sort_keys=True),
        "RECSYS_JOB_DATA": uri.removeprefix("file://"),
        "RECSYS_JOB_DATA_FORMAT": dataset.get("format", "auto"),
        "RECSYS_JOB_SYNTHETIC_USERS": str(dataset.get("syntheticUsers", 10000)),
        "RECSYS_JOB_SYNTHETIC_ITEMS": str(dataset.get("syntheticItems", 5000)),
        "RECSYS_JOB_PROTOCOL": evaluation.get("protocol", "full"),
        "RECSYS_JOB_METRIC": key_metric(spec),
        "RECSYS_JOB_OUTPUT": str(artifact_dir(settings, name, version)),
        "RECSYS_JOB_VERSION": version,
        "RECSYS_JOB_REFIT": "true" if (spec.get("training") or {}).get("refit") else "false",
    }
    return env


def reads_the_store(spec: dict[str, Any], settings: OperatorSettings) -> bool:
    return spec["dataset"]["uri"] == "store" and bool(settings.database_url)


def database_env(spec: dict[str, Any], settings: OperatorSettings) -> list[dict[str, Any]]:
    """The store's URL for a Job that trains from it: a reference to the Secret holding it when the
    operator knows one (the password never appears in the Job), else the operator's own value; with a
    CA Secret, libpq's settings to require TLS and check the server against that CA."""
    if not reads_the_store(spec, settings):
        return []
    if settings.database_secret is not None:
        name, key = settings.database_secret
        env = [{"name": "RECSYS_DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": name, "key": key}}}]
    else:
        env = [{"name": "RECSYS_DATABASE_URL", "value": settings.database_url}]
    if settings.database_ca_secret:
        env += [{"name": "PGSSLMODE", "value": "verify-full"},
                {"name": "PGSSLROOTCERT", "value": f"{DATABASE_CA_DIR}/ca.crt"}]
    return env


Objects = list[dict[str, Any]]


def database_ca_volumes(spec: dict[str, Any], settings: OperatorSettings) -> tuple[Objects, Objects]:
    """(volumes, mounts) putting only the CA Secret's ca.crt where PGSSLROOTCERT points."""
    if not (reads_the_store(spec, settings) and settings.database_ca_secret):
        return [], []
    volume = {"name": "database-ca", "secret": {"secretName": settings.database_ca_secret,
                                                 "items": [{"key": "ca.crt", "path": "ca.crt"}]}}
    return [volume], [{"name": "database-ca", "mountPath": DATABASE_CA_DIR, "readOnly": True}]


def key_metric(spec: dict[str, Any]) -> str:
    evaluation = spec.get("evaluation") or {}
    return f"{evaluation.get('metric', 'ndcg')}@{evaluation.get('k', 20)}"


def training_image(spec: dict[str, Any], settings: OperatorSettings) -> str:
    """The image the RecommenderModel names, or the operator's default (the chart's own image)."""
    return (spec.get("training") or {}).get("image") or settings.training_image


def training_job(body: dict[str, Any], settings: OperatorSettings, version: str) -> dict[str, Any]:
    """The batch/v1 Job that trains ``version`` of the RecommenderModel ``body``."""
    spec, meta = body["spec"], body["metadata"]
    training = spec.get("training") or {}
    gpus = int(training.get("gpus", 1))
    resources: dict[str, dict[str, Any]] = {
        "requests": {"cpu": training.get("cpu", "2"), "memory": training.get("memory", "8Gi")},
        "limits": {"memory": training.get("memory", "8Gi")},
    }
    if gpus:
        resources["limits"]["nvidia.com/gpu"] = str(gpus)  # extended resources: limit only (request = limit)
    env = job_environment(spec, settings, meta["name"], version)
    volume = ({"name": "artifacts", "persistentVolumeClaim": {"claimName": settings.artifacts_claim}}
              if settings.artifacts_claim else {"name": "artifacts", "emptyDir": {}})
    ca_volumes, ca_mounts = database_ca_volumes(spec, settings)
    pod_spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "automountServiceAccountToken": False,  # training never calls the Kubernetes API
        "containers": [{
            "name": "train",
            "image": training_image(spec, settings),
            "command": ["python", "-m", "cli.job"],
            "env": [{"name": k, "value": v} for k, v in sorted(env.items())] + database_env(spec, settings),
            "resources": resources,
            "volumeMounts": [{"name": "artifacts", "mountPath": str(settings.artifacts_root)},
                             {"name": "tmp", "mountPath": "/tmp"}, *ca_mounts],
            # the services' restricted context: a Job runs what a RecommenderModel asks, so it gets no more
            "securityContext": {"readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False,
                                "capabilities": {"drop": ["ALL"]}},
        }],
        "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001, "fsGroup": 10001,
                            "seccompProfile": {"type": "RuntimeDefault"}},
        "volumes": [volume, {"name": "tmp", "emptyDir": {}}, *ca_volumes],  # tmp: the data export, scratch
    }
    if training.get("nodeSelector"):
        pod_spec["nodeSelector"] = dict(training["nodeSelector"])
    if training.get("tolerations"):
        pod_spec["tolerations"] = [dict(t) for t in training["tolerations"]]
    if settings.job_service_account:
        pod_spec["serviceAccountName"] = settings.job_service_account
    labels = {MODEL_LABEL: meta["name"], VERSION_LABEL: version, "app.kubernetes.io/component": "training",
              "app.kubernetes.io/managed-by": "recsys-operator"}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": job_name(version), "namespace": meta.get("namespace", "default"), "labels": labels},
        "spec": {
            "backoffLimit": int(training.get("retries", 2)),
            "activeDeadlineSeconds": int(training.get("deadlineSeconds", 21600)),
            "ttlSecondsAfterFinished": 7 * 24 * 3600,  # keep a week of finished Jobs for people to inspect
            "template": {"metadata": {"labels": labels}, "spec": pod_spec},
        },
    }


def split_routes(settings: OperatorSettings, stable: str | None, canary: str | None,
                 canary_percent: int) -> tuple[Route, ...]:
    """The gateway's split: the stable track, plus the canary track at ``canary_percent``; no routes
    while nothing serves yet."""
    routes = []
    if stable is not None and canary_percent < 100:
        routes.append(settings.route(stable, "stable", round((100 - canary_percent) / 100, 4)))
    if canary is not None and canary_percent > 0:
        routes.append(settings.route(canary, "canary", round(canary_percent / 100, 4)))
    return tuple(routes)


def split_configmap(settings: OperatorSettings, namespace: str, model: str, split: TrafficSplit) -> dict[str, Any]:
    """The gateway's split file as a ConfigMap (mounted into the gateway, re-read while it runs)."""
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": settings.split_name(model), "namespace": namespace,
                         "labels": {"app.kubernetes.io/managed-by": "recsys-operator", MODEL_LABEL: model}},
            "data": {"routes.json": split.to_json()}}
