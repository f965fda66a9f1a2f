"""The operator against a real kube-apiserver: CRD validation at apply time, training Jobs run by a
stand-in kubelet with the real training code, gates, canary steps through the gateway's traffic
split, rollbacks, an operator restart mid-flow and clean-up on delete."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from kubelet import FakeKubelet
from kubernetes import client, config
from servers import eventually

from store import repository
from store.db import make_engine

NS = "default"
REPO = Path(__file__).resolve().parents[2]
GROUP, VERSION, PLURAL = "recsys.dev", "v1alpha1", "recommendermodels"


@pytest.fixture(scope="module")
def cluster(kube_apiserver, postgres_server, tmp_path_factory):
    from stack_fixtures import new_database

    api = config.new_client_from_config(str(kube_apiserver.kubeconfig))
    root = tmp_path_factory.mktemp("operator")
    env = {**os.environ, "KUBECONFIG": str(kube_apiserver.operator_kubeconfig), "RECSYS_OPERATOR_NAMESPACES": NS,
           "RECSYS_ARTIFACTS_ROOT": str(root / "artifacts"), "RECSYS_OPERATOR_INTERVAL_SECONDS": "1",
           "RECSYS_DATABASE_URL": new_database(postgres_server), "RECSYS_LOG_LEVEL": "INFO",
           "RECSYS_METRICS_PORT": "0"}
    operator = Operator(env, root / "operator.log")
    with FakeKubelet(api, NS, root) as kubelet:
        operator.start()
        yield {"api": api, "custom": client.CustomObjectsApi(api), "core": client.CoreV1Api(api),
               "batch": client.BatchV1Api(api), "kubeconfig": str(kube_apiserver.kubeconfig), "kubelet": kubelet,
               "operator": operator, "root": root, "db": env["RECSYS_DATABASE_URL"]}
        operator.stop()


class Operator:
    def __init__(self, env: dict[str, str], log) -> None:
        self.env, self.log, self.proc = env, log, None

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "cli.main", "operator"], env=self.env,
                                         stdout=out, stderr=subprocess.STDOUT)

    def stop(self, kill: bool = False) -> None:
        if self.proc and self.proc.poll() is None:
            (self.proc.kill if kill else self.proc.terminate)()
            self.proc.wait(30)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def _model(name: str, **spec) -> dict:
    base = {"algorithm": "lightgcn",
            "dataset": {"uri": "synthetic", "syntheticUsers": 400, "syntheticItems": 200},
            "hyperparameters": {"epochs": 2, "batchSize": 2048, "learningRate": 0.01},
            "training": {"gpus": 1, "nodeSelector": {"accelerator": "nvidia-h100"},
                         "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]},
            "evaluation": {"metric": "recall", "k": 20, "minimum": 0.01, "tolerance": 0.5},
            "rollout": {"strategy": "canary", "steps": [50, 100], "analysisWindowSeconds": 5, "minImpressions": 20}}
    for key, value in spec.items():
        base[key] = {**base.get(key, {}), **value} if isinstance(value, dict) else value
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "RecommenderModel", "metadata": {"name": name}, "spec": base}


def _kubectl(cluster, *args, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["kubectl", "--kubeconfig", cluster["kubeconfig"], *args], input=stdin,
                          capture_output=True, text=True)


def _get(cluster, name: str) -> dict:
    return cluster["custom"].get_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, name)


def _wait_phase(cluster, name: str, phases: tuple[str, ...], timeout_s: float = 120) -> dict:
    deadline = time.monotonic() + timeout_s
    body = {}
    while time.monotonic() < deadline:
        body = _get(cluster, name)
        if (body.get("status") or {}).get("phase") in phases:
            return body
        time.sleep(0.5)
    raise AssertionError(f"{name} never reached {phases}: status {json.dumps(body.get('status'), indent=1)}\n"
                         f"operator log:\n{cluster['operator'].output()[-4000:]}")


def _wait_condition(cluster, name: str, kind: str, state: str, timeout_s: float = 120) -> dict:
    """The resource's condition ``kind`` once its status is ``state``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        conditions = (_get(cluster, name).get("status") or {}).get("conditions") or []
        found = next((c for c in conditions if c["type"] == kind and c["status"] == state), None)
        if found is not None:
            return found
        time.sleep(0.5)
    raise AssertionError(f"{name} never had condition {kind}={state}; operator log:\n"
                         f"{cluster['operator'].output()[-4000:]}")


def _into_canary(cluster, name: str) -> None:
    """Generation 1 trained and promoted, generation 2 in its canary."""
    assert _apply(cluster, _model(name)).returncode == 0
    _wait_phase(cluster, name, ("Promoted",))
    assert _apply(cluster, _model(name, hyperparameters={"epochs": 3})).returncode == 0
    _wait_phase(cluster, name, ("Canary",))


def _split(cluster, model: str) -> dict:
    data = cluster["core"].read_namespaced_config_map(f"{model}-traffic-split", NS).data
    return {r["name"]: r["weight"] for r in json.loads(data["routes.json"])["routes"]}


def _online(cluster, version: str, impressions: int, clicks: int) -> None:
    engine = make_engine(cluster["db"])
    now = datetime.now(UTC)
    with engine.begin() as connection:
        repository.add_online_counts(connection, [{
            "model_version": version, "window_start": now - timedelta(seconds=1),
            "window_end": now + timedelta(seconds=1), "impressions": impressions, "clicks": clicks,
            "add_to_carts": 0, "purchases": 0}])
    engine.dispose()


def _apply(cluster, body: dict) -> subprocess.CompletedProcess:
    return _kubectl(cluster, "apply", "-f", "-", stdin=yaml.safe_dump(body))


@pytest.mark.parametrize("change, message", [
    ({"algorithm": "svd"}, 'Unsupported value: "svd"'),
    ({"training": {"gpus": -1}},
     "spec.training.gpus: Invalid value: -1: spec.training.gpus in body should be greater than or equal to 0"),
    ({"rollout": {"steps": [10, 150]}}, "should be less than or equal to 100"),
    ({"evaluation": {"metric": "auc"}}, 'Unsupported value: "auc"'),
    ({"training": {"memory": "lots"}}, "spec.training.memory in body should match"),
    ({"algorithm": "ncf", "hyperparameters": {"loss": "softmax"}}, "loss softmax trains algorithm lightgcn only"),
    ({"hyperparameters": {"negatives": 1000}}, "negatives above 100 need loss softmax"),
    ({"hyperparameters": {"loss": "softmax", "temperature": 0}}, "spec.hyperparameters.temperature in body"),
    ({"algorithm": "ncf", "hyperparameters": {"recentItemWeight": 0.5}},
     "recentItemWeight applies to algorithm lightgcn only"),
    ({"hyperparameters": {"recentItemWeight": -1}}, "spec.hyperparameters.recentItemWeight in body"),
    ({"algorithm": "ncf", "hyperparameters": {"hardNegatives": 8}},
     "hardNegatives above 1 need algorithm lightgcn with loss bpr"),
    ({"hyperparameters": {"loss": "softmax", "hardNegatives": 8}},
     "hardNegatives above 1 need algorithm lightgcn with loss bpr"),
    ({"hyperparameters": {"hardNegatives": 0}}, "spec.hyperparameters.hardNegatives in body"),
    ({"algorithm": "ncf", "hyperparameters": {"recencyWeight": 2}}, "recencyWeight weighs BPR's pairs"),
    ({"hyperparameters": {"loss": "softmax", "recencyWeight": 2}}, "recencyWeight weighs BPR's pairs"),
    ({"hyperparameters": {"recencyWeight": -1}}, "spec.hyperparameters.recencyWeight in body"),
    ({"hyperparameters": {"recencyShape": "exponential"}}, "recencyShape shapes recencyWeight's weights"),
    ({"hyperparameters": {"recencyWeight": 0, "recencyShape": "linear"}}, "recencyShape shapes recencyWeight's"),
    ({"hyperparameters": {"recencyWeight": 4, "recencyShape": "square"}}, "spec.hyperparameters.recencyShape"),
    ({"training": {"refit": "yes"}}, "spec.training.refit"),
])
def test_invalid_specs_are_rejected_by_the_api_server(cluster, change, message):
    result = _apply(cluster, _model(f"bad-{uuid.uuid4().hex[:6]}", **change))
    assert result.returncode != 0 and message in result.stderr, result.stderr


@pytest.mark.parametrize("change", [
    {"hyperparameters": {"recentItemWeight": 0.5}},
    {"algorithm": "ncf", "hyperparameters": {"recentItemWeight": 0}},  # an integer 0 is "off", for any algorithm
    {"hyperparameters": {"hardNegatives": 32}},
    {"hyperparameters": {"loss": "bpr", "hardNegatives": 32}},
    {"algorithm": "ncf", "hyperparameters": {"hardNegatives": 1}},  # 1 is the uniform draw, for any algorithm
    {"hyperparameters": {"recencyWeight": 6}},
    {"algorithm": "ncf", "hyperparameters": {"loss": "bpr", "recencyWeight": 2.5}},
    {"algorithm": "ncf", "hyperparameters": {"recencyWeight": 0}},  # 0 is every pair alike, for any loss
    {"hyperparameters": {"recencyWeight": 4, "recencyShape": "exponential"}},
    {"training": {"refit": True}},
])
def test_valid_lightgcn_query_and_sampling_settings_are_accepted(cluster, change):
    result = _kubectl(cluster, "apply", "--dry-run=server", "-f", "-",
                      stdin=yaml.safe_dump(_model(f"ok-{uuid.uuid4().hex[:6]}", **change)))
    assert result.returncode == 0, result.stderr


def test_a_spec_without_dataset_is_rejected(cluster):
    body = _model("no-data")
    del body["spec"]["dataset"]
    result = _apply(cluster, body)
    assert result.returncode != 0 and "spec.dataset: Required value" in result.stderr


def test_happy_path_trains_promotes_then_canaries_a_new_version(cluster):
    name = "shop"
    assert _apply(cluster, _model(name)).returncode == 0
    job = None
    for _ in range(60):
        jobs = cluster["batch"].list_namespaced_job(NS, label_selector=f"recsys.dev/model={name}").items
        if jobs:
            job = jobs[0]
            break
        time.sleep(0.5)
    assert job is not None, cluster["operator"].output()[-3000:]
    pod = job.spec.template.spec
    assert pod.containers[0].resources.limits["nvidia.com/gpu"] == "1"
    assert pod.node_selector == {"accelerator": "nvidia-h100"} and pod.tolerations[0].key == "nvidia.com/gpu"
    assert job.metadata.owner_references[0].kind == "RecommenderModel"
    # the first version has nothing in production to canary against: promoted directly
    body = _wait_phase(cluster, name, ("Promoted", "Failed", "RolledBack"))
    status = body["status"]
    assert status["phase"] == "Promoted", status
    assert status["productionVersion"] == f"{name}-g1" and status["metrics"]["recall@20"] > 0.01
    assert status["keyMetric"].startswith("recall@20=") and status["observedGeneration"] == 1
    assert _split(cluster, name) == {f"{name}-g1": 1.0}
    assert os.readlink(cluster["root"] / "artifacts" / name / "stable") == f"{name}-g1"
    # a new spec trains generation 2, which goes through the canary steps
    assert _apply(cluster, _model(name, hyperparameters={"epochs": 3})).returncode == 0
    body = _wait_phase(cluster, name, ("Canary", "Failed", "RolledBack"))
    assert body["status"]["phase"] == "Canary" and body["status"]["canaryWeight"] == 50
    assert _split(cluster, name) == {f"{name}-g1": 0.5, f"{name}-g2": 0.5}
    _online(cluster, f"{name}-g1", 1000, 100)
    _online(cluster, f"{name}-g2", 1000, 98)  # within the 10% regression budget
    body = _wait_phase(cluster, name, ("Promoted", "RolledBack", "Failed"), timeout_s=60)
    assert body["status"]["phase"] == "Promoted" and body["status"]["productionVersion"] == f"{name}-g2"
    assert _split(cluster, name) == {f"{name}-g2": 1.0}
    described = _kubectl(cluster, "describe", "recommendermodel", name).stdout
    assert "Promoted" in described and "Canary" in described and "Training" in described
    listed = _kubectl(cluster, "get", "rm", name).stdout
    assert "lightgcn" in listed and "Promoted" in listed and "recall@20=" in listed
    engine = make_engine(cluster["db"])
    with engine.connect() as connection:
        stages = {v["version"]: v["stage"] for v in repository.list_model_versions(connection, name)}
    engine.dispose()
    assert stages == {f"{name}-g1": "archived", f"{name}-g2": "production"}


def test_the_running_operator_answers_livez_from_its_event_loop(cluster):
    """What the chart's liveness probe asks (kopf's own endpoint speaks plain HTTP only)."""
    import urllib.request

    started = eventually(lambda: re.findall(r"metrics on port (\d+)", cluster["operator"].output()), 60,
                         "the operator's metrics port in its log")
    with urllib.request.urlopen(f"http://127.0.0.1:{started[-1]}/livez", timeout=10) as answer:
        assert answer.status == 200 and answer.read() == b"alive\n"


def test_an_online_regression_rolls_the_canary_back(cluster):
    name = "regress"
    _into_canary(cluster, name)
    _online(cluster, f"{name}-g1", 1000, 100)
    _online(cluster, f"{name}-g2", 1000, 50)  # CTR halves
    body = _wait_phase(cluster, name, ("RolledBack", "Promoted"), timeout_s=60)
    assert body["status"]["phase"] == "RolledBack" and "below production" in body["status"]["message"]
    assert body["status"]["productionVersion"] == f"{name}-g1" and body["status"]["canaryWeight"] == 0
    assert _split(cluster, name) == {f"{name}-g1": 1.0}


def test_a_failed_offline_gate_rolls_back_before_any_traffic(cluster):
    name = "strict"
    assert _apply(cluster, _model(name, evaluation={"minimum": 0.99})).returncode == 0
    body = _wait_phase(cluster, name, ("RolledBack", "Promoted", "Failed"))
    assert body["status"]["phase"] == "RolledBack" and "below the minimum 0.9900" in body["status"]["message"]


def test_a_failing_job_gives_failed_with_the_reason(cluster):
    name = "broken"
    body = _model(name, dataset={"uri": "/nonexistent/ratings.csv", "format": "csv"})
    assert _apply(cluster, body).returncode == 0
    body = _wait_phase(cluster, name, ("Failed", "Promoted", "RolledBack"))
    assert body["status"]["phase"] == "Failed" and "/nonexistent/ratings.csv" in body["status"]["message"]


def test_an_operator_restart_mid_flow_continues(cluster):
    name = "restart"
    cluster["kubelet"].paused.set()  # the Job will not run while the operator is away
    try:
        assert _apply(cluster, _model(name)).returncode == 0
        _wait_phase(cluster, name, ("Training",))
        cluster["operator"].stop(kill=True)
    finally:
        cluster["kubelet"].paused.clear()
    time.sleep(2)  # the Job runs and completes with nobody watching
    cluster["operator"].start()
    body = _wait_phase(cluster, name, ("Promoted", "Failed", "RolledBack"))
    assert body["status"]["phase"] == "Promoted"
    jobs = cluster["batch"].list_namespaced_job(NS, label_selector=f"recsys.dev/model={name}").items
    assert [j.metadata.name for j in jobs] == [f"train-{name}-g1"]  # no second Job after the restart



def _job_names(cluster, name: str) -> list[str]:
    return sorted(j.metadata.name for j in cluster["batch"].list_namespaced_job(
        NS, label_selector=f"recsys.dev/model={name}").items if not j.metadata.deletion_timestamp)


def test_an_operator_restart_mid_canary_keeps_the_split_and_finishes_the_rollout(cluster):
    name = "restartcanary"
    _into_canary(cluster, name)
    cluster["operator"].stop(kill=True)  # no chance to tidy up
    try:
        # with the operator away the gateway keeps the canary's split; the online counts arrive
        assert _split(cluster, name) == {f"{name}-g1": 0.5, f"{name}-g2": 0.5}
        _online(cluster, f"{name}-g1", 1000, 100)
        _online(cluster, f"{name}-g2", 1000, 100)
    finally:
        cluster["operator"].start()
    body = _wait_phase(cluster, name, ("Promoted", "RolledBack", "Failed"), timeout_s=120)
    status = body["status"]
    assert status["phase"] == "Promoted" and status["productionVersion"] == f"{name}-g2", status
    assert _split(cluster, name) == {f"{name}-g2": 1.0}
    assert _job_names(cluster, name) == [f"train-{name}-g1", f"train-{name}-g2"]  # nothing retrained


def test_a_spec_edit_while_evaluating_trains_the_new_spec_and_only_it_is_promoted(cluster):
    name = "evaledit"
    in_the_way = cluster["root"] / "artifacts" / name / "stable"
    in_the_way.mkdir(parents=True)  # the promotion of g1 cannot link the stable track: held in Evaluating
    (in_the_way / "someone's file").write_text("not the operator's")
    try:
        assert _apply(cluster, _model(name)).returncode == 0
        _wait_condition(cluster, name, "Artifacts", "False")
        assert _get(cluster, name)["status"]["phase"] == "Evaluating"
        assert _apply(cluster, _model(name, hyperparameters={"epochs": 3})).returncode == 0
        body = _wait_phase(cluster, name, ("Training", "Promoted", "Failed", "RolledBack"))
        assert body["status"]["version"] == f"{name}-g2", body["status"]
    finally:
        (in_the_way / "someone's file").unlink()
        in_the_way.rmdir()
    body = _wait_phase(cluster, name, ("Promoted", "Failed", "RolledBack"))
    status = body["status"]
    # g1 never served: the edited spec's model is the first production version, with no canary
    assert status["phase"] == "Promoted" and status["productionVersion"] == f"{name}-g2", status
    assert _split(cluster, name) == {f"{name}-g2": 1.0}
    assert (cluster["root"] / "artifacts" / name / "stable").resolve().name == f"{name}-g2"


def test_spec_edits_in_quick_succession_race_no_handler_into_a_wrong_phase(cluster):
    name = "quickedits"
    phases: list[str] = []
    cluster["kubelet"].paused.set()  # every generation's Job waits, so the edits overlap the training
    try:
        assert _apply(cluster, _model(name)).returncode == 0
        for epochs in (3, 4, 5):
            assert _apply(cluster, _model(name, hyperparameters={"epochs": epochs})).returncode == 0
            phases.append((_get(cluster, name).get("status") or {}).get("phase"))
            time.sleep(0.3)  # within the timer's interval: the train handler and the timer overlap
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and _job_names(cluster, name) != [f"train-{name}-g4"]:
            phases.append((_get(cluster, name).get("status") or {}).get("phase"))
            time.sleep(0.3)
        assert _job_names(cluster, name) == [f"train-{name}-g4"]  # the superseded Jobs are gone
    finally:
        cluster["kubelet"].paused.clear()
    body = _wait_phase(cluster, name, ("Promoted", "Failed", "RolledBack"))
    status = body["status"]
    assert status["phase"] == "Promoted" and status["productionVersion"] == f"{name}-g4", status
    assert "Failed" not in phases, phases  # no step read a superseded Job as missing

def test_deleting_the_resource_cleans_up(cluster):
    name = "shop"
    _wait_phase(cluster, name, ("Promoted",))
    assert _kubectl(cluster, "delete", "recommendermodel", name, "--timeout=60s").returncode == 0
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        jobs = cluster["batch"].list_namespaced_job(NS, label_selector=f"recsys.dev/model={name}").items
        if not jobs:
            break
        time.sleep(0.5)
    assert not jobs
    with pytest.raises(client.ApiException) as info:
        _get(cluster, name)
    assert info.value.status == 404
    with pytest.raises(client.ApiException) as info:
        cluster["core"].read_namespaced_config_map(f"{name}-traffic-split", NS)
    assert info.value.status == 404


def test_a_spec_change_while_training_supersedes_the_running_job(cluster):
    name = "supersede"
    cluster["kubelet"].paused.set()
    try:
        assert _apply(cluster, _model(name)).returncode == 0
        _wait_phase(cluster, name, ("Training",))
        assert _apply(cluster, _model(name, hyperparameters={"epochs": 3})).returncode == 0
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            jobs = [j.metadata.name for j in cluster["batch"].list_namespaced_job(
                NS, label_selector=f"recsys.dev/model={name}").items if not j.metadata.deletion_timestamp]
            if jobs == [f"train-{name}-g2"]:
                break
            time.sleep(0.5)
        assert jobs == [f"train-{name}-g2"]
        assert "superseded train-supersede-g1" in _get(cluster, name)["status"]["message"]
    finally:
        cluster["kubelet"].paused.clear()
    body = _wait_phase(cluster, name, ("Promoted", "Failed", "RolledBack"))
    assert body["status"]["productionVersion"] == f"{name}-g2"


def test_a_job_deleted_from_outside_gives_failed_with_the_reason(cluster):
    name = "vanished"
    cluster["kubelet"].paused.set()  # the Job stays unstarted, so it can be deleted mid-training
    try:
        assert _apply(cluster, _model(name)).returncode == 0
        _wait_phase(cluster, name, ("Training",))
        cluster["batch"].delete_namespaced_job(f"train-{name}-g1", NS, propagation_policy="Background")
        body = _wait_phase(cluster, name, ("Failed", "Promoted", "RolledBack"))
    finally:
        cluster["kubelet"].paused.clear()
    status = body["status"]
    assert status["phase"] == "Failed" and "disappeared before finishing" in status["message"], status
    trained = next(c for c in status["conditions"] if c["type"] == "Trained")
    assert trained["status"] == "False" and trained["reason"] == "JobMissing"
    # a new spec starts over: the resource is not stuck in Failed
    assert _apply(cluster, _model(name, hyperparameters={"epochs": 3})).returncode == 0
    body = _wait_phase(cluster, name, ("Promoted", "RolledBack"))
    assert body["status"]["productionVersion"] == f"{name}-g2"


def test_a_spec_change_during_a_canary_gives_production_all_traffic_back(cluster):
    name = "recanary"
    _into_canary(cluster, name)
    assert _split(cluster, name) == {f"{name}-g1": 0.5, f"{name}-g2": 0.5}
    cluster["kubelet"].paused.set()  # hold generation 3 in Training to look at the split meanwhile
    try:
        assert _apply(cluster, _model(name, hyperparameters={"epochs": 4})).returncode == 0
        body = _wait_phase(cluster, name, ("Training",))
        # the canary being analysed is gone: production serves everyone while g3 trains
        assert _split(cluster, name) == {f"{name}-g1": 1.0}
        assert body["status"]["productionVersion"] == f"{name}-g1" and body["status"]["canaryWeight"] == 0
    finally:
        cluster["kubelet"].paused.clear()
    _wait_phase(cluster, name, ("Canary",))
    assert _split(cluster, name) == {f"{name}-g1": 0.5, f"{name}-g3": 0.5}
    _online(cluster, f"{name}-g1", 1000, 100)
    _online(cluster, f"{name}-g3", 1000, 100)
    body = _wait_phase(cluster, name, ("Promoted", "RolledBack", "Failed"), timeout_s=60)
    assert body["status"]["productionVersion"] == f"{name}-g3", body["status"]


def test_the_store_away_during_a_canary_waits_visibly_then_rolls_back_at_the_deadline(cluster):
    from stack.process import free_port

    name = "storeless"
    assert _apply(cluster, _model(name)).returncode == 0
    _wait_phase(cluster, name, ("Promoted",))
    # the operator loses its database (nothing listens at that port) while g2 is in its canary
    cluster["operator"].stop()
    away = Operator({**cluster["operator"].env,
                     "RECSYS_DATABASE_URL": f"postgresql+psycopg://recsys@127.0.0.1:{free_port()}/recsys"},
                    cluster["root"] / "store-away.log")
    away.start()
    try:
        rollout = {"analysisWindowSeconds": 5, "maxWaitSeconds": 60}  # the schema's least
        assert _apply(cluster, _model(name, hyperparameters={"epochs": 3}, rollout=rollout)).returncode == 0
        deadline = time.monotonic() + 120
        message = ""
        while time.monotonic() < deadline and "the store is unreachable" not in message:
            message = (_get(cluster, name).get("status") or {}).get("message", "")
            time.sleep(0.5)
        assert message.startswith("waiting: the store is unreachable (OperationalError"), message
        assert _split(cluster, name) == {f"{name}-g1": 0.5, f"{name}-g2": 0.5}  # no verdict yet: no change
        body = _wait_phase(cluster, name, ("RolledBack", "Promoted", "Failed"), timeout_s=180)
        status = body["status"]
        assert status["phase"] == "RolledBack" and "rollout.maxWaitSeconds" in status["message"], status
        assert "the store is unreachable" in status["message"]
        assert _split(cluster, name) == {f"{name}-g1": 1.0}  # production serves everyone again
        assert "Traceback" not in away.output()
    finally:
        away.stop()
        cluster["operator"].start()


def test_a_forbidden_api_call_shows_as_a_condition_and_the_rollout_resumes_once_allowed(cluster):
    name = "forbidden"
    rbac = REPO / "operator" / "rbac.yaml"
    role = next(d for d in yaml.safe_load_all(rbac.read_text()) if d and d["kind"] == "Role")
    role["rules"] = [r for r in role["rules"] if "configmaps" not in r["resources"]]
    assert _apply(cluster, role).returncode == 0  # an administrator narrows the operator's Role too far
    try:
        assert _apply(cluster, _model(name)).returncode == 0  # its promotion writes the split ConfigMap
        condition = _wait_condition(cluster, name, "KubernetesApi", "False")
        assert condition["reason"] == "Forbidden" and "403 Forbidden" in condition["message"]
        assert f"ConfigMap {name}-traffic-split" in condition["message"]
        events = _kubectl(cluster, "get", "events", "--field-selector", f"involvedObject.name={name}").stdout
        assert "Forbidden" in events
    finally:
        assert _kubectl(cluster, "apply", "-f", str(rbac)).returncode == 0
    body = _wait_phase(cluster, name, ("Promoted", "Failed", "RolledBack"))
    assert body["status"]["phase"] == "Promoted"
    condition = next(c for c in body["status"]["conditions"] if c["type"] == "KubernetesApi")
    assert condition["status"] == "True" and condition["reason"] == "Reachable"


def test_an_artifacts_volume_that_refuses_a_change_shows_as_a_condition_until_it_accepts(cluster):
    name = "blocked"
    in_the_way = cluster["root"] / "artifacts" / name / "stable"
    in_the_way.mkdir(parents=True)  # a directory where the stable track's link must go: the promotion fails
    (in_the_way / "someone's file").write_text("not the operator's")
    try:
        assert _apply(cluster, _model(name)).returncode == 0
        condition = _wait_condition(cluster, name, "Artifacts", "False")
        assert condition["reason"] == "ArtifactsUnwritable" and str(in_the_way) in condition["message"]
        assert _get(cluster, name)["status"]["phase"] == "Evaluating"  # stuck, saying why; not Failed
    finally:
        (in_the_way / "someone's file").unlink()
        in_the_way.rmdir()
    body = _wait_phase(cluster, name, ("Promoted", "Failed", "RolledBack"))
    assert body["status"]["phase"] == "Promoted"
    condition = next(c for c in body["status"]["conditions"] if c["type"] == "Artifacts")
    assert condition["status"] == "True" and condition["reason"] == "Writable"


def test_a_second_replica_stands_by_and_takes_over(cluster):
    """Peering: a lower-priority replica stays paused while the first runs, then takes over."""
    standby = Operator({**cluster["operator"].env, "RECSYS_OPERATOR_PRIORITY": "10"}, cluster["root"] / "standby.log")
    standby.start()
    try:
        deadline = time.monotonic() + 30
        peers = {}
        while time.monotonic() < deadline and len(peers) < 2:
            peering = cluster["custom"].get_namespaced_custom_object("kopf.dev", "v1", NS, "kopfpeerings",
                                                                     "recsys-operator")
            peers = {k: v for k, v in (peering.get("status") or {}).items()}
            time.sleep(0.5)
        assert sorted(p["priority"] for p in peers.values()) == [10, 100]
        cluster["operator"].stop()  # graceful: it withdraws from the peering
        name = "failover"
        assert _apply(cluster, _model(name)).returncode == 0
        body = _wait_phase(cluster, name, ("Promoted", "Failed", "RolledBack"))
        assert body["status"]["phase"] == "Promoted"
        assert "Resuming operations" in standby.output()
    finally:
        standby.stop()
        cluster["operator"].start()

