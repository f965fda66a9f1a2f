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

The handlers are plain functions; ``register`` puts them in a kopf registry (main.py), and each
handler call gathers what it was given into one ``Resource`` that the steps of the state machine
take. The operator's settings reach the handlers through ``memo.settings``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kopf
from prometheus_client import Counter, Gauge

from core.traffic_split import TrafficSplit
from recsys_operator import GROUP, PLURAL, VERSION, artifacts, gates, kube, manifests
from recsys_operator.liveness import LoopHeartbeat
from recsys_operator.settings import OperatorSettings

TRANSITIONS = Counter("recsys_operator_transitions", "RecommenderModel phase transitions", ["model", "phase"])
CANARY_WEIGHT = Gauge("recsys_operator_canary_weight", "Percent of traffic on the version being rolled out", ["model"])

TERMINAL = ("Promoted", "RolledBack", "Failed")
log = logging.getLogger(__name__)


def register(registry: kopf.OperatorRegistry, settings: OperatorSettings) -> kopf.OperatorRegistry:
    """Register the handlers below in ``registry`` (the timer's interval comes from ``settings``)."""
    # an explicit registry has none of kopf's default login handlers: log in as kube.py's client does
    kopf.on.login(registry=registry, errors=kopf.ErrorsMode.IGNORED)(kopf.login_via_client)
    kopf.on.startup(registry=registry)(configure)
    kopf.on.startup(registry=registry)(start_heartbeat)
    kopf.on.update(GROUP, VERSION, PLURAL, field="spec", registry=registry)(train)
    kopf.on.resume(GROUP, VERSION, PLURAL, registry=registry)(train)
    kopf.on.create(GROUP, VERSION, PLURAL, registry=registry)(train)
    # kopf runs timers beside the change handlers: `idle` keeps the state machine off a resource for one
    # interval after any change, so it never acts on a status that `train` is rewriting (a spec edit
    # mid-training once read as the new Job having disappeared)
    kopf.timer(GROUP, VERSION, PLURAL, interval=settings.interval_s, idle=settings.interval_s, initial_delay=1.0,
               registry=registry)(advance)
    kopf.on.delete(GROUP, VERSION, PLURAL, registry=registry)(clean_up)
    return registry


def configure(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    """The startup handler: kopf's settings from ours (``memo.settings``), credentials, /metrics."""
    ours: OperatorSettings = memo.settings
    _load_kube_credentials()
    if ours.metrics_port >= 0:
        from core.security import Security
        from telemetry.setup import start_metrics_server

        tls = Security.from_env({"RECSYS_TLS_DIR": str(ours.metrics_tls_dir or "")})
        log.info("metrics on port %d", start_metrics_server(ours.metrics_port, tls=tls))
    settings.persistence.finalizer = f"{GROUP}/cleanup"
    settings.posting.level = logging.INFO
    # Peering: with several replicas, only the highest-priority one acts; the others stand by.
    settings.peering.name = ours.peering
    settings.peering.mandatory = ours.peering_mandatory
    settings.peering.priority = ours.priority
    settings.watching.server_timeout = 60


async def start_heartbeat(memo: kopf.Memo, **_: Any) -> None:
    """The startup handler that ties /livez to kopf's event loop (liveness.py)."""
    from telemetry.setup import LIVENESS

    heartbeat = LoopHeartbeat()
    memo.heartbeat = asyncio.get_running_loop().create_task(heartbeat.run(), name="liveness-heartbeat")
    LIVENESS.problem = heartbeat.problem


def _load_kube_credentials() -> None:
    """The official client's credentials: the pod's service account, else KUBECONFIG (development)."""
    from kubernetes import config

    try:
        config.load_incluster_config()
    except config.ConfigException:
        config.load_kube_config()


@dataclass(frozen=True)
class Resource:
    """One RecommenderModel as a handler call sees it, where that call's status changes go (``patch``),
    and the operator's settings: what every step of the state machine works on."""

    body: kopf.Body
    spec: kopf.Spec
    meta: kopf.Meta
    status: kopf.Status
    namespace: str
    patch: kopf.Patch
    settings: OperatorSettings

    @property
    def name(self) -> str:
        return self.meta["name"]

    @property
    def model_dir(self) -> Path:
        """This model's directory on the artifacts volume (versions, and the serving tracks)."""
        return self.settings.artifacts_root / self.name


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _condition(status: dict[str, Any], kind: str, state: bool, reason: str, message: str) -> list[dict[str, Any]]:
    """status.conditions with ``kind`` set (its lastTransitionTime moves only when the state does)."""
    conditions = [dict(c) for c in status.get("conditions") or [] if c.get("type") != kind]
    previous = next((c for c in status.get("conditions") or [] if c.get("type") == kind), None)
    value = "True" if state else "False"
    changed = previous is None or previous.get("status") != value
    conditions.append({"type": kind, "status": value, "reason": reason, "message": message,
                       "lastTransitionTime": _now() if changed else previous.get("lastTransitionTime")})
    return conditions


def _transition(res: Resource, phase: str, message: str, warning: bool = False,
                conditions: list[dict[str, Any]] | None = None, **fields: Any) -> None:
    model = res.name
    TRANSITIONS.labels(model=model, phase=phase).inc()
    if "canaryWeight" in fields:
        CANARY_WEIGHT.labels(model=model).set(fields["canaryWeight"] or 0)
    res.patch.status["phase"] = phase
    res.patch.status["message"] = message
    for key, value in fields.items():
        res.patch.status[key] = value
    if conditions is not None:
        res.patch.status["conditions"] = conditions
    (kopf.warn if warning else kopf.info)(res.body, reason=phase, message=message)


# ---------------------------------------------------------------------------------- training


def train(body: kopf.Body, spec: kopf.Spec, meta: kopf.Meta, status: kopf.Status, namespace: str,
          patch: kopf.Patch, memo: kopf.Memo, **_: Any) -> None:
    """One training Job per spec generation; a newer spec supersedes an older one's Job."""
    res = Resource(body, spec, meta, status, namespace, patch, memo.settings)
    generation = int(meta["generation"])
    if status.get("observedGeneration") == generation and status.get("jobName"):
        return  # this generation is already handled (a resume after an operator restart)
    name = res.name
    if spec["dataset"]["uri"] == "store" and not res.settings.database_url:
        message = "dataset.uri is 'store' but the operator has no RECSYS_DATABASE_URL to give the training Job"
        _transition(res, "Failed", message, warning=True, observedGeneration=generation,
                    conditions=_condition(status, "Trained", False, "InvalidSpec", message))
        raise kopf.PermanentError(message)  # retrying cannot help; a new spec (or operator setting) can
    image = manifests.training_image(spec, res.settings)
    if not res.settings.image_allowed(image):
        allowed = ", ".join((res.settings.training_image, *res.settings.training_images))
        message = f"training.image '{image}' is not allowed (RECSYS_TRAINING_IMAGES): allowed are {allowed}"
        _transition(res, "Failed", message, warning=True, observedGeneration=generation,
                    conditions=_condition(status, "Trained", False, "ImageNotAllowed", message))
        raise kopf.PermanentError(message)
    version = manifests.version_name(name, generation)
    job = manifests.training_job(dict(body), res.settings, version)
    kopf.adopt(job, owner=body)
    superseded = kube.delete_jobs(namespace, f"{manifests.MODEL_LABEL}={name}", keep=job["metadata"]["name"],
                                  only_running=True)
    if status.get("phase") == "Canary":  # the canary being analysed is replaced: stable gets all traffic back
        _write_split(res, status.get("productionVersion"), None, 0)
        artifacts.clear_track(res.model_dir, "canary")
    kube.create_job(job)
    message = f"training {version} in Job {job['metadata']['name']}"
    if superseded:
        message += f" (superseded {', '.join(superseded)})"
    _transition(res, "Training", message, version=version, jobName=job["metadata"]["name"],
                observedGeneration=generation, canaryWeight=0, stepIndex=None, stepStartedAt=None,
                conditions=_condition(status, "Trained", False, "Training", message))


# ---------------------------------------------------------------------------------- the state machine


def advance(body: kopf.Body, spec: kopf.Spec, meta: kopf.Meta, status: kopf.Status, namespace: str,
            patch: kopf.Patch, memo: kopf.Memo, **_: Any) -> None:
    """The timer (every RECSYS_OPERATOR_INTERVAL_SECONDS): one step of the state machine."""
    res = Resource(body, spec, meta, status, namespace, patch, memo.settings)
    phase = status.get("phase")
    try:
        if phase == "Training":
            _check_training(res)
        elif phase == "Evaluating":
            _evaluate(res)
        elif phase == "Canary":
            _analyse_canary(res)
    except kube.ApiRefused as refused:  # retried next tick; meanwhile the resource says why it is stuck
        patch.status["conditions"] = _condition(status, "KubernetesApi", False, refused.reason, str(refused))
        kopf.warn(body, reason=refused.reason, message=str(refused))
        raise
    except OSError as exc:  # the artifacts volume: missing, read-only, full, or a track path in the way
        message = f"the artifacts volume at {res.settings.artifacts_root} refused a change: {exc}"
        patch.status["conditions"] = _condition(status, "Artifacts", False, "ArtifactsUnwritable", message)
        kopf.warn(body, reason="ArtifactsUnwritable", message=message)
        raise kopf.TemporaryError(message, delay=10) from None
    _recovered(res)


# conditions a failed step leaves False, and what they say once a step goes through again
RECOVERABLE = {"KubernetesApi": ("Reachable", "the API server accepts the operator's calls again"),
               "Artifacts": ("Writable", "the artifacts volume accepts changes again")}


def _recovered(res: Resource) -> None:
    current = res.patch.status.get("conditions") or res.status.get("conditions") or []
    for kind, (reason, message) in RECOVERABLE.items():
        if any(c.get("type") == kind and c.get("status") == "False" for c in current):
            current = _condition({"conditions": current}, kind, True, reason, message)
            res.patch.status["conditions"] = current


def _check_training(res: Resource) -> None:
    status = res.status
    job = kube.read_job(res.namespace, status["jobName"])
    if job is None:
        _transition(res, "Failed", f"training Job {status['jobName']} disappeared before finishing",
                    warning=True, conditions=_condition(status, "Trained", False, "JobMissing", "the Job is gone"))
        return
    outcome, detail = kube.job_outcome(job)
    if outcome == "running":
        return
    result_path = manifests.artifact_dir(res.settings, res.name, status["version"]) / "result.json"
    result = artifacts.read_result(result_path)
    if outcome == "failed" or (result is not None and result.get("status") != "succeeded"):
        reason = (result or {}).get("message") or detail
        _transition(res, "Failed", f"training {status['version']} failed: {reason}", warning=True,
                    conditions=_condition(status, "Trained", False, "JobFailed", reason))
        return
    if result is None:
        _transition(res, "Failed", f"the Job completed but wrote no result at {result_path}",
                    warning=True, conditions=_condition(status, "Trained", False, "NoResult", str(result_path)))
        return
    metric, value = result.get("metric"), result.get("value")
    if not isinstance(metric, str) or not metric or isinstance(value, bool) or not isinstance(value, (int, float)) \
            or value != value:
        # a malformed result would otherwise raise here on every tick: the resource stuck in Training
        reason = f"the Job's result at {result_path} has no numeric value for its metric ({metric!r}: {value!r})"
        _transition(res, "Failed", reason, warning=True,
                    conditions=_condition(status, "Trained", False, "BadResult", reason))
        return
    _transition(res, "Evaluating", f"trained {status['version']}: {metric} {value:.4f}",
                metrics={k: v for k, v in (result.get("metrics") or {}).items() if isinstance(v, (int, float))},
                keyMetric=f"{metric}={value:.4f}", artifactUri=result.get("artifact_uri"),
                conditions=_condition(status, "Trained", True, "JobComplete", f"{metric} {value:.4f}"))
    _register(res, status["version"], result.get("artifact_uri", ""), result.get("metrics") or {}, "candidate")


def _evaluate(res: Resource) -> None:
    spec, status = res.spec, res.status
    metric = manifests.key_metric(spec)
    value = (status.get("metrics") or {}).get(metric)
    verdict = gates.offline_gate(metric, value, spec.get("evaluation") or {}, status.get("productionMetric"))
    conditions = _condition(status, "Evaluated", verdict.outcome == "pass", "OfflineGate", verdict.reason)
    if verdict.outcome != "pass":
        _transition(res, "RolledBack", f"{status['version']} not rolled out: {verdict.reason}",
                    warning=True, canaryWeight=0, conditions=conditions)
        _register(res, status["version"], status.get("artifactUri", ""), status.get("metrics") or {}, "archived")
        return
    rollout = spec.get("rollout") or {}
    if rollout.get("strategy", "canary") == "direct" or not status.get("productionVersion"):
        why = "direct rollout" if rollout.get("strategy") == "direct" else "first version, no canary needed"
        _promote(res, f"{verdict.reason}; {why}", conditions)
        return
    _start_step(res, 0, verdict.reason, conditions)


def _start_step(res: Resource, index: int, why: str, conditions: list[dict[str, Any]]) -> None:
    spec, status = res.spec, res.status
    steps = (spec.get("rollout") or {}).get("steps") or [10, 50, 100]
    weight = int(steps[index])
    if weight >= 100:
        _promote(res, why, conditions)
        return
    version = status["version"]
    artifacts.point_track(res.model_dir, "canary", version)
    _write_split(res, status.get("productionVersion"), version, weight)
    _register(res, version, status.get("artifactUri", ""), status.get("metrics") or {}, "canary")
    _transition(res, "Canary", f"{version} gets {weight}% of traffic ({why})", canaryWeight=weight,
                stepIndex=index, stepStartedAt=_now(), conditions=conditions)


def _analyse_canary(res: Resource) -> None:
    status, patch = res.status, res.patch
    rollout = res.spec.get("rollout") or {}
    started = dt.datetime.fromisoformat(status["stepStartedAt"])
    window = dt.timedelta(seconds=int(rollout.get("analysisWindowSeconds", 300)))
    if dt.datetime.now(dt.UTC) - started < window:
        return
    verdict = _online_verdict(res, started, rollout)
    if verdict.outcome == "wait":
        waited = (dt.datetime.now(dt.UTC) - started).total_seconds()
        if waited < int(rollout.get("maxWaitSeconds", 3600)):
            if status.get("message") != f"waiting: {verdict.reason}":
                patch.status["message"] = f"waiting: {verdict.reason}"
            return
        # never enough traffic to judge: a rollout must end, and say why
        verdict = gates.Verdict("fail", f"no verdict after {waited:.0f} s (rollout.maxWaitSeconds): {verdict.reason}")
    conditions = _condition(status, "OnlineAnalysis", verdict.outcome == "pass", "CanaryAnalysis", verdict.reason)
    if verdict.outcome == "fail":
        if not rollout.get("autoRollback", True):
            patch.status["message"] = f"regression: {verdict.reason}; autoRollback is off, roll back by hand"
            patch.status["conditions"] = conditions
            return
        _write_split(res, status.get("productionVersion"), None, 0)
        artifacts.clear_track(res.model_dir, "canary")
        _register(res, status["version"], status.get("artifactUri", ""), status.get("metrics") or {}, "archived")
        _transition(res, "RolledBack", f"{status['version']} rolled back: {verdict.reason}",
                    warning=True, canaryWeight=0, conditions=conditions)
        return
    steps = rollout.get("steps") or [10, 50, 100]
    index = int(status.get("stepIndex") or 0) + 1
    if index >= len(steps):
        _promote(res, verdict.reason, conditions)
    else:
        _start_step(res, index, verdict.reason, conditions)


def _online_verdict(res: Resource, started: dt.datetime, rollout: dict[str, Any]) -> gates.Verdict:
    """Judge the canary on the online metrics since ``started``; the store being away is a wait
    (shown in the status message), which rollout.maxWaitSeconds ends like any other."""
    try:
        canary_counts, production_counts = _online_counts(res.settings, res.status["version"],
                                                          res.status.get("productionVersion"), started)
    except StoreUnavailable as away:
        return gates.Verdict("wait", str(away))
    if canary_counts is None:
        return gates.Verdict("pass", "no online metrics source (RECSYS_DATABASE_URL unset): advancing on schedule")
    return gates.online_verdict(canary_counts, production_counts, rollout)


def _promote(res: Resource, why: str, conditions: list[dict[str, Any]]) -> None:
    spec, status = res.spec, res.status
    version = status["version"]
    artifacts.point_track(res.model_dir, "stable", version)
    artifacts.clear_track(res.model_dir, "canary")
    _write_split(res, version, None, 0)
    previous = status.get("productionVersion")
    if previous and previous != version:
        _register(res, previous, "", {}, "archived")
    _register(res, version, status.get("artifactUri", ""), status.get("metrics") or {}, "production")
    metric = manifests.key_metric(spec)
    _transition(res, "Promoted", f"{version} is in production: {why}", canaryWeight=100,
                productionVersion=version, productionMetric=(status.get("metrics") or {}).get(metric),
                productionArtifactUri=status.get("artifactUri"),
                conditions=_condition({"conditions": conditions}, "Promoted", True, "Promoted", why))


# ---------------------------------------------------------------------------------- serving configuration


def _write_split(res: Resource, stable: str | None, canary: str | None, percent: int) -> None:
    routes = manifests.split_routes(res.settings, stable, canary, percent)
    if not routes:
        return  # nothing serves yet: leave the gateway's configuration alone
    kube.apply_configmap(manifests.split_configmap(res.settings, res.namespace, res.name, TrafficSplit(routes)))


@functools.lru_cache(maxsize=4)
def _engine(url: str):
    """The store's engine, made once per URL: a pool, not a connection per state-machine step."""
    from store.db import make_engine

    return make_engine(url)


class StoreUnavailable(Exception):
    """The online metrics could not be read: the canary waits (visibly), up to its deadline."""


def _online_counts(settings: OperatorSettings, canary: str, production: str | None, since: dt.datetime):
    if not settings.database_url:
        return None, None
    from store import repository

    try:
        with _engine(settings.database_url).connect() as connection:
            canary_counts = repository.online_totals(connection, canary, since)
            production_counts = repository.online_totals(connection, production, since) if production else None
    except Exception as exc:  # noqa: BLE001 - the database being away is a reason to wait, not to fail
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise StoreUnavailable(f"the store is unreachable ({type(exc).__name__}: {first_line})") from None
    return canary_counts, production_counts


def _register(res: Resource, version: str, uri: str, metrics: dict[str, Any], stage: str) -> None:
    """Mirror a version of this model into the store's model registry (what the gateway's ListModels
    can read)."""
    settings, name, algorithm = res.settings, res.name, res.spec["algorithm"]
    if not settings.database_url:
        return
    from store import repository
    from store.tables import ModelStage

    try:
        with _engine(settings.database_url).begin() as connection:
            repository.register_model_version(connection, name, version, algorithm, uri or "",
                                              {k: float(v) for k, v in metrics.items()
                                               if isinstance(v, (int, float))}, ModelStage(stage))
    except Exception as exc:  # noqa: BLE001 - the registry is a mirror: log, never block the rollout
        log.warning("registering %s/%s as %s failed: %s", name, version, stage, exc)


# ---------------------------------------------------------------------------------- deletion


def clean_up(meta: kopf.Meta, namespace: str, memo: kopf.Memo, logger: logging.Logger, **_: Any) -> None:
    """The finalizer: this model's Jobs, and the traffic split it wrote. Artifacts stay (they are data)."""
    settings: OperatorSettings = memo.settings
    name = meta["name"]
    deleted = kube.delete_jobs(namespace, f"{manifests.MODEL_LABEL}={name}")
    kube.delete_configmap(namespace, settings.split_name(name))
    logger.info("deleted Jobs %s and the serving configuration of %s", deleted, name)
