"""kopf handlers: the RecommenderModel life cycle.

    create/update(spec) -> Training (a Job per spec generation; a newer spec supersedes the old Job)
    Training   -> Evaluating (Job complete, result read)       | Failed (Job failed or wrote a failure)
    Evaluating -> Promoted (passes; direct rollout or nothing in production yet)
               -> Canary (passes; the gateway's split sends steps[0]% to the new version)
               -> RolledBack (fails the offline gate: below the minimum or too far below production)
    Canary     -> next step / Promoted (online metric holds over each analysis window)
               -> RolledBack (online regression; the split goes back to the stable version)
    delete     -> the finalizer removes the Jobs and the serving configuration

All state lives in .status, so a restarted operator continues where the last one stopped; every
step is idempotent (a Job or ConfigMap that already exists is reused).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
from typing import Any

import kopf
from prometheus_client import Counter, Gauge

from recsys_operator import GROUP, PLURAL, VERSION, artifacts, gates, kube, manifests
from recsys_operator.settings import OperatorSettings

TRANSITIONS = Counter("recsys_operator_transitions", "RecommenderModel phase transitions", ["model", "phase"])
CANARY_WEIGHT = Gauge("recsys_operator_canary_weight", "Percent of traffic on the version being rolled out", ["model"])

# Timer intervals are fixed when the module is imported (kopf's decorators need them).
INTERVAL_S = float(os.environ.get("RECSYS_OPERATOR_INTERVAL_SECONDS", "5"))
TERMINAL = ("Promoted", "RolledBack", "Failed")
log = logging.getLogger(__name__)


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    memo.settings = OperatorSettings.from_env()
    _load_kube_credentials()
    port = int(os.environ.get("RECSYS_METRICS_PORT", "9096"))
    if port >= 0:
        from services.common.metrics import start_metrics_server

        log.info("metrics on port %d", start_metrics_server(port))
    settings.persistence.finalizer = f"{GROUP}/cleanup"
    settings.posting.level = logging.INFO
    # Peering: with several replicas, only the highest-priority one acts; the others stand by.
    settings.peering.name = os.environ.get("RECSYS_OPERATOR_PEERING", "recsys-operator")
    settings.peering.mandatory = os.environ.get("RECSYS_OPERATOR_PEERING", "recsys-operator") != "none"
    settings.peering.priority = int(os.environ.get("RECSYS_OPERATOR_PRIORITY", "100"))
    settings.watching.server_timeout = 60


def _load_kube_credentials() -> None:
    """The official client's credentials: the pod's service account, else KUBECONFIG (development)."""
    from kubernetes import config

    try:
        config.load_incluster_config()
    except config.ConfigException:
        config.load_kube_config()


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _condition(status: dict[str, Any], kind: str, state: bool, reason: str, message: str) -> list[dict[str, Any]]:
    """status.conditions with ``kind`` set (its lastTransitionTime moves only when the state does)."""
    conditions = [dict(c) for c in status.get("conditions") or [] if c.get("type") != kind]
    previous = next((c for c in status.get("conditions") or [] if c.get("type") == kind), None)
    value = "True" if state else "False"
    changed = previous is None or previous.get("status") != value
    conditions.append({"type": kind, "status": value, "reason": reason, "message": message,
                       "lastTransitionTime": _now() if changed else previous.get("lastTransitionTime")})
    return conditions


def _transition(body: Any, patch: kopf.Patch, status: dict[str, Any], phase: str, message: str,
                warning: bool = False, conditions: list[dict[str, Any]] | None = None, **fields: Any) -> None:
    model = body["metadata"]["name"]
    TRANSITIONS.labels(model=model, phase=phase).inc()
    if "canaryWeight" in fields:
        CANARY_WEIGHT.labels(model=model).set(fields["canaryWeight"] or 0)
    patch.status["phase"] = phase
    patch.status["message"] = message
    for key, value in fields.items():
        patch.status[key] = value
    if conditions is not None:
        patch.status["conditions"] = conditions
    (kopf.warn if warning else kopf.info)(body, reason=phase, message=message)


# ---------------------------------------------------------------------------------- training


@kopf.on.create(GROUP, VERSION, PLURAL)
@kopf.on.resume(GROUP, VERSION, PLURAL)
@kopf.on.update(GROUP, VERSION, PLURAL, field="spec")
def train(body: kopf.Body, spec: kopf.Spec, meta: kopf.Meta, status: kopf.Status, namespace: str,
          patch: kopf.Patch, memo: kopf.Memo, **_: Any) -> None:
    """One training Job per spec generation; a newer spec supersedes an older one's Job."""
    settings: OperatorSettings = memo.settings
    generation = int(meta["generation"])
    if status.get("observedGeneration") == generation and status.get("jobName"):
        return  # this generation is already handled (a resume after an operator restart)
    name = meta["name"]
    if spec["dataset"]["uri"] == "store" and not settings.database_url:
        message = "dataset.uri is 'store' but the operator has no RECSYS_DATABASE_URL to give the training Job"
        _transition(body, patch, status, "Failed", message, warning=True, observedGeneration=generation,
                    conditions=_condition(status, "Trained", False, "InvalidSpec", message))
        raise kopf.PermanentError(message)  # retrying cannot help; a new spec (or operator setting) can
    version = manifests.version_name(name, generation)
    job = manifests.training_job(dict(body), settings, version)
    kopf.adopt(job, owner=body)
    superseded = kube.delete_jobs(namespace, f"{manifests.MODEL_LABEL}={name}", keep=job["metadata"]["name"],
                                  only_running=True)
    if status.get("phase") == "Canary":  # the canary being analysed is replaced: stable gets all traffic back
        _write_split(settings, namespace, name, status.get("productionVersion"), None, 0)
        artifacts.clear_track(settings.artifacts_root / name, "canary")
    kube.create_job(job)
    message = f"training {version} in Job {job['metadata']['name']}"
    if superseded:
        message += f" (superseded {', '.join(superseded)})"
    _transition(body, patch, status, "Training", message, version=version, jobName=job["metadata"]["name"],
                observedGeneration=generation, canaryWeight=0, stepIndex=None, stepStartedAt=None,
                conditions=_condition(status, "Trained", False, "Training", message))


# ---------------------------------------------------------------------------------- the state machine


@kopf.timer(GROUP, VERSION, PLURAL, interval=INTERVAL_S, initial_delay=1.0)
def advance(body: kopf.Body, spec: kopf.Spec, meta: kopf.Meta, status: kopf.Status, namespace: str,
            patch: kopf.Patch, memo: kopf.Memo, **_: Any) -> None:
    settings: OperatorSettings = memo.settings
    phase = status.get("phase")
    if phase == "Training":
        _check_training(body, spec, meta, status, namespace, patch, settings)
    elif phase == "Evaluating":
        _evaluate(body, spec, meta, status, namespace, patch, settings)
    elif phase == "Canary":
        _analyse_canary(body, spec, meta, status, namespace, patch, settings)


def _check_training(body, spec, meta, status, namespace, patch, settings: OperatorSettings) -> None:
    job = kube.read_job(namespace, status["jobName"])
    if job is None:
        _transition(body, patch, status, "Failed", f"training Job {status['jobName']} disappeared before finishing",
                    warning=True, conditions=_condition(status, "Trained", False, "JobMissing", "the Job is gone"))
        return
    outcome, detail = kube.job_outcome(job)
    if outcome == "running":
        return
    result_path = manifests.artifact_dir(settings, meta["name"], status["version"]) / "result.json"
    result = artifacts.read_result(result_path)
    if outcome == "failed" or (result is not None and result.get("status") != "succeeded"):
        reason = (result or {}).get("message") or detail
        _transition(body, patch, status, "Failed", f"training {status['version']} failed: {reason}", warning=True,
                    conditions=_condition(status, "Trained", False, "JobFailed", reason))
        return
    if result is None:
        _transition(body, patch, status, "Failed", f"the Job completed but wrote no result at {result_path}",
                    warning=True, conditions=_condition(status, "Trained", False, "NoResult", str(result_path)))
        return
    metric, value = result.get("metric"), result.get("value")
    _transition(body, patch, status, "Evaluating", f"trained {status['version']}: {metric} {value:.4f}",
                metrics={k: v for k, v in (result.get("metrics") or {}).items() if isinstance(v, (int, float))},
                keyMetric=f"{metric}={value:.4f}", artifactUri=result.get("artifact_uri"),
                conditions=_condition(status, "Trained", True, "JobComplete", f"{metric} {value:.4f}"))
    _register(settings, meta["name"], status["version"], spec["algorithm"], result.get("artifact_uri", ""),
              result.get("metrics") or {}, "candidate")


def _evaluate(body, spec, meta, status, namespace, patch, settings: OperatorSettings) -> None:
    metric = manifests.key_metric(spec)
    value = (status.get("metrics") or {}).get(metric)
    verdict = gates.offline_gate(metric, value, spec.get("evaluation") or {}, status.get("productionMetric"))
    conditions = _condition(status, "Evaluated", verdict.outcome == "pass", "OfflineGate", verdict.reason)
    if verdict.outcome != "pass":
        _transition(body, patch, status, "RolledBack", f"{status['version']} not rolled out: {verdict.reason}",
                    warning=True, canaryWeight=0, conditions=conditions)
        _register(settings, meta["name"], status["version"], spec["algorithm"], status.get("artifactUri", ""),
                  status.get("metrics") or {}, "archived")
        return
    rollout = spec.get("rollout") or {}
    if rollout.get("strategy", "canary") == "direct" or not status.get("productionVersion"):
        why = "direct rollout" if rollout.get("strategy") == "direct" else "first version, no canary needed"
        _promote(body, spec, meta, status, namespace, patch, settings, f"{verdict.reason}; {why}", conditions)
        return
    _start_step(body, spec, meta, status, namespace, patch, settings, 0, verdict.reason, conditions)


def _start_step(body, spec, meta, status, namespace, patch, settings, index: int, why: str,
                conditions: list[dict[str, Any]]) -> None:
    steps = (spec.get("rollout") or {}).get("steps") or [10, 50, 100]
    weight = int(steps[index])
    if weight >= 100:
        _promote(body, spec, meta, status, namespace, patch, settings, why, conditions)
        return
    name, version = meta["name"], status["version"]
    artifacts.point_track(settings.artifacts_root / name, "canary", version)
    _write_split(settings, namespace, name, status.get("productionVersion"), version, weight)
    _register(settings, name, version, spec["algorithm"], status.get("artifactUri", ""), status.get("metrics") or {},
              "canary")
    _transition(body, patch, status, "Canary", f"{version} gets {weight}% of traffic ({why})", canaryWeight=weight,
                stepIndex=index, stepStartedAt=_now(), conditions=conditions)


def _analyse_canary(body, spec, meta, status, namespace, patch, settings: OperatorSettings) -> None:
    rollout = spec.get("rollout") or {}
    started = dt.datetime.fromisoformat(status["stepStartedAt"])
    window = dt.timedelta(seconds=int(rollout.get("analysisWindowSeconds", 300)))
    if dt.datetime.now(dt.timezone.utc) - started < window:
        return
    canary_counts, production_counts = _online_counts(settings, status["version"], status.get("productionVersion"),
                                                      started)
    if canary_counts is None:
        verdict = gates.Verdict("pass", "no online metrics source (RECSYS_DATABASE_URL unset): advancing on schedule")
    else:
        verdict = gates.online_verdict(canary_counts, production_counts, rollout)
    if verdict.outcome == "wait":
        if status.get("message") != f"waiting: {verdict.reason}":
            patch.status["message"] = f"waiting: {verdict.reason}"
        return
    conditions = _condition(status, "OnlineAnalysis", verdict.outcome == "pass", "CanaryAnalysis", verdict.reason)
    if verdict.outcome == "fail":
        if not rollout.get("autoRollback", True):
            patch.status["message"] = f"regression: {verdict.reason}; autoRollback is off, roll back by hand"
            patch.status["conditions"] = conditions
            return
        name = meta["name"]
        _write_split(settings, namespace, name, status.get("productionVersion"), None, 0)
        artifacts.clear_track(settings.artifacts_root / name, "canary")
        _register(settings, name, status["version"], spec["algorithm"], status.get("artifactUri", ""),
                  status.get("metrics") or {}, "archived")
        _transition(body, patch, status, "RolledBack", f"{status['version']} rolled back: {verdict.reason}",
                    warning=True, canaryWeight=0, conditions=conditions)
        return
    steps = rollout.get("steps") or [10, 50, 100]
    index = int(status.get("stepIndex") or 0) + 1
    if index >= len(steps):
        _promote(body, spec, meta, status, namespace, patch, settings, verdict.reason, conditions)
    else:
        _start_step(body, spec, meta, status, namespace, patch, settings, index, verdict.reason, conditions)


def _promote(body, spec, meta, status, namespace, patch, settings: OperatorSettings, why: str,
             conditions: list[dict[str, Any]]) -> None:
    name, version = meta["name"], status["version"]
    model_dir = settings.artifacts_root / name
    artifacts.point_track(model_dir, "stable", version)
    artifacts.clear_track(model_dir, "canary")
    _write_split(settings, namespace, name, version, None, 0)
    previous = status.get("productionVersion")
    if previous and previous != version:
        _register(settings, name, previous, spec["algorithm"], "", {}, "archived")
    _register(settings, name, version, spec["algorithm"], status.get("artifactUri", ""), status.get("metrics") or {},
              "production")
    metric = manifests.key_metric(spec)
    _transition(body, patch, status, "Promoted", f"{version} is in production: {why}", canaryWeight=100,
                productionVersion=version, productionMetric=(status.get("metrics") or {}).get(metric),
                productionArtifactUri=status.get("artifactUri"),
                conditions=_condition({"conditions": conditions}, "Promoted", True, "Promoted", why))


# ---------------------------------------------------------------------------------- serving configuration


def _write_split(settings: OperatorSettings, namespace: str, model: str, stable: str | None, canary: str | None,
                 percent: int) -> None:
    routes = manifests.split_routes(settings, stable, canary, percent)
    if not routes["routes"]:
        return  # nothing serves yet: leave the gateway's configuration alone
    kube.apply_configmap(manifests.split_configmap(settings, namespace, model, routes))


@functools.lru_cache(maxsize=4)
def _engine(url: str):
    """The store's engine, made once per URL: a pool, not a connection per state-machine step."""
    from services.store.db import make_engine

    return make_engine(url)


def _online_counts(settings: OperatorSettings, canary: str, production: str | None, since: dt.datetime):
    if not settings.database_url:
        return None, None
    from services.store import repository

    try:
        with _engine(settings.database_url).connect() as connection:
            canary_counts = repository.online_totals(connection, canary, since)
            production_counts = repository.online_totals(connection, production, since) if production else None
    except Exception as exc:  # noqa: BLE001 - the database being away is a reason to retry, not to fail
        raise kopf.TemporaryError(f"reading online metrics failed: {exc}", delay=10) from None
    return canary_counts, production_counts


def _register(settings: OperatorSettings, name: str, version: str, algorithm: str, uri: str,
              metrics: dict[str, Any], stage: str) -> None:
    """Mirror the version into the store's model registry (what the gateway's ListModels can read)."""
    if not settings.database_url:
        return
    from services.store import repository
    from services.store.models import ModelStage

    try:
        with _engine(settings.database_url).begin() as connection:
            repository.register_model_version(connection, name, version, algorithm, uri or "",
                                              {k: float(v) for k, v in metrics.items()
                                               if isinstance(v, (int, float))}, ModelStage(stage))
    except Exception as exc:  # noqa: BLE001 - the registry is a mirror: log, never block the rollout
        log.warning("registering %s/%s as %s failed: %s", name, version, stage, exc)


# ---------------------------------------------------------------------------------- deletion


@kopf.on.delete(GROUP, VERSION, PLURAL)
def clean_up(meta: kopf.Meta, namespace: str, memo: kopf.Memo, logger: logging.Logger, **_: Any) -> None:
    """The finalizer: this model's Jobs, and the traffic split it wrote. Artifacts stay (they are data)."""
    settings: OperatorSettings = memo.settings
    name = meta["name"]
    deleted = kube.delete_jobs(namespace, f"{manifests.MODEL_LABEL}={name}")
    kube.delete_configmap(namespace, settings.split_name(name))
    logger.info("deleted Jobs %s and the serving configuration of %s", deleted, name)
