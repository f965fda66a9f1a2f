"""The operator's pure parts: manifests rendered from a spec, and the gate decisions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from recsys_operator import gates, manifests
from recsys_operator.artifacts import point_track, read_result, track_version
from recsys_operator.settings import OperatorSettings

SETTINGS = OperatorSettings(artifacts_root=Path("/artifacts"), artifacts_claim="recsys-artifacts",
                            job_service_account="recsys-trainer")
BODY = {"metadata": {"name": "amazon", "namespace": "shop", "generation": 3},
        "spec": {"algorithm": "lightgcn", "dataset": {"uri": "file:///artifacts/data/beauty.parquet", "format": "parquet"},
                 "hyperparameters": {"epochs": 50, "learningRate": 0.002, "batchSize": 4096, "numLayers": 3},
                 "training": {"gpus": 2, "cpu": "4", "memory": "16Gi", "nodeSelector": {"gpu": "h100"},
                              "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
                              "deadlineSeconds": 3600, "retries": 1},
                 "evaluation": {"metric": "recall", "k": 20, "protocol": "full"}}}


def test_training_job_carries_gpu_placement_and_limits():
    job = manifests.training_job(BODY, SETTINGS, "amazon-g3")
    pod = job["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert job["metadata"]["name"] == "train-amazon-g3" and job["metadata"]["namespace"] == "shop"
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "2"
    assert container["resources"]["requests"] == {"cpu": "4", "memory": "16Gi"}
    assert pod["nodeSelector"] == {"gpu": "h100"} and pod["tolerations"][0]["key"] == "nvidia.com/gpu"
    assert job["spec"]["backoffLimit"] == 1 and job["spec"]["activeDeadlineSeconds"] == 3600
    assert job["spec"]["ttlSecondsAfterFinished"] > 0 and pod["restartPolicy"] == "Never"
    assert pod["volumes"][0]["persistentVolumeClaim"]["claimName"] == "recsys-artifacts"
    assert pod["serviceAccountName"] == "recsys-trainer"
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["RECSYS_JOB_MODEL"] == "lightgcn" and env["RECSYS_JOB_METRIC"] == "recall@20"
    assert json.loads(env["RECSYS_JOB_HYPERPARAMETERS"]) == {"epochs": 50, "lr": 0.002, "batch_size": 4096,
                                                             "n_layers": 3}
    assert env["RECSYS_JOB_DATA"] == "/artifacts/data/beauty.parquet"
    assert env["RECSYS_JOB_OUTPUT"] == "/artifacts/amazon/amazon-g3"
    assert container["command"] == ["python", "-m", "training.job"]


def test_cpu_only_jobs_ask_for_no_gpu():
    body = {**BODY, "spec": {**BODY["spec"], "training": {"gpus": 0}}}
    limits = manifests.training_job(body, SETTINGS, "v")["spec"]["template"]["spec"]["containers"][0]["resources"]
    assert "nvidia.com/gpu" not in limits["limits"]


def test_split_routes_move_traffic_in_steps():
    assert [r["weight"] for r in manifests.split_routes(SETTINGS, "v1", "v2", 10)["routes"]] == [0.9, 0.1]
    routes = manifests.split_routes(SETTINGS, "v1", None, 0)["routes"]
    assert [(r["name"], r["weight"]) for r in routes] == [("v1", 1.0)]
    assert routes[0]["embedding"] == "recsys-embedding-stable:50054"
    canary = manifests.split_routes(SETTINGS, "v1", "v2", 50)["routes"][1]
    assert canary["retrieval"] == "recsys-retrieval-canary:50052"
    assert manifests.split_routes(SETTINGS, None, None, 0) == {"routes": []}


def test_offline_gate():
    eval_spec = {"minimum": 0.1, "tolerance": 0.05}
    assert gates.offline_gate("ndcg@20", 0.05, eval_spec, None).outcome == "fail"
    assert "below the minimum" in gates.offline_gate("ndcg@20", 0.05, eval_spec, None).reason
    assert gates.offline_gate("ndcg@20", 0.2, eval_spec, None).outcome == "pass"
    assert gates.offline_gate("ndcg@20", 0.2, eval_spec, 0.2).outcome == "pass"
    assert gates.offline_gate("ndcg@20", 0.191, eval_spec, 0.2).outcome == "pass"  # within 5%
    failed = gates.offline_gate("ndcg@20", 0.18, eval_spec, 0.2)
    assert failed.outcome == "fail" and "production's 0.2000" in failed.reason
    assert gates.offline_gate("ndcg@20", None, eval_spec, None).outcome == "fail"


def test_online_verdict():
    rollout = {"onlineMetric": "ctr", "maxRegression": 0.1, "minImpressions": 100}
    production = {"impressions": 1000, "clicks": 100}
    assert gates.online_verdict({"impressions": 50, "clicks": 5}, production, rollout).outcome == "wait"
    assert gates.online_verdict({"impressions": 500, "clicks": 46}, production, rollout).outcome == "pass"
    regression = gates.online_verdict({"impressions": 500, "clicks": 40}, production, rollout)
    assert regression.outcome == "fail" and "by more than 10%" in regression.reason
    assert gates.online_verdict({"impressions": 500, "clicks": 40}, {"impressions": 10}, rollout).outcome == "wait"
    conversion = {**rollout, "onlineMetric": "conversion"}
    assert gates.online_verdict({"impressions": 200, "purchases": 1}, {"impressions": 200, "purchases": 10},
                                conversion).outcome == "fail"


def test_tracks_flip_atomically_and_results_are_read(tmp_path):
    point_track(tmp_path, "stable", "v1")
    point_track(tmp_path, "stable", "v2")
    assert track_version(tmp_path, "stable") == "v2" and track_version(tmp_path, "canary") is None
    assert read_result(tmp_path / "missing.json") is None
    (tmp_path / "bad.json").write_text("{")
    assert read_result(tmp_path / "bad.json")["status"] == "failed"


def test_the_crd_schema_is_structural_and_complete():
    crd = yaml.safe_load((Path(__file__).parents[1] / "operator" / "crds" / "recommendermodel.yaml").read_text())
    version = crd["spec"]["versions"][0]
    spec = version["schema"]["openAPIV3Schema"]["properties"]["spec"]
    assert spec["required"] == ["algorithm", "dataset"]
    assert spec["properties"]["algorithm"]["enum"] == ["ncf", "lightgcn"]
    assert version["subresources"] == {"status": {}}
    assert {c["name"] for c in version["additionalPrinterColumns"]} >= {"Algorithm", "Phase", "Metric", "Canary", "Age"}
    assert "rm" in crd["spec"]["names"]["shortNames"]


def test_a_spec_the_operator_cannot_serve_fails_permanently(monkeypatch):
    import kopf

    from recsys_operator import handlers

    posted = []
    monkeypatch.setattr(kopf, "warn", lambda body, reason, message: posted.append((reason, message)))
    memo = kopf.Memo(settings=OperatorSettings(database_url=None))
    body = {"metadata": {"name": "m", "namespace": "default", "generation": 1},
            "spec": {"algorithm": "ncf", "dataset": {"uri": "store"}}}
    patch = kopf.Patch()
    with pytest.raises(kopf.PermanentError, match="no RECSYS_DATABASE_URL"):
        handlers.train(body=body, spec=body["spec"], meta=body["metadata"], status={}, namespace="default",
                       patch=patch, memo=memo)
    assert patch["status"]["phase"] == "Failed" and posted[0][0] == "Failed"
