"""The operator's pure parts: settings, manifests rendered from a spec, the gate decisions, and the
handlers' registration and steps with the Kubernetes calls stubbed out."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import kopf
import pytest
import yaml

from cli.job import JobSettings
from core.errors import SettingsError
from core.settings import effective_environment
from core.traffic_split import TrafficSplit, load_split
from recsys_operator import gates, handlers, manifests
from recsys_operator.artifacts import point_track, read_result, track_version
from recsys_operator.settings import SETTINGS as DECLARED
from recsys_operator.settings import OperatorSettings
from training.config import TrainConfig

SETTINGS = OperatorSettings(artifacts_root=Path("/artifacts"), artifacts_claim="recsys-artifacts",
                            job_service_account="recsys-trainer")
BODY = {"metadata": {"name": "amazon", "namespace": "shop", "generation": 3},
        "spec": {"algorithm": "lightgcn",
                 "dataset": {"uri": "file:///artifacts/data/beauty.parquet", "format": "parquet"},
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
    assert container["command"] == ["python", "-m", "cli.job"]


def test_the_objective_reaches_the_training_job_as_train_config_fields():
    hyper = {"loss": "softmax", "temperature": 0.1, "negatives": 2048, "learningRateSchedule": "cosine",
             "recentItemWeight": 0.5, "hardNegatives": 1}
    body = {**BODY, "spec": {**BODY["spec"], "hyperparameters": hyper}}
    env = manifests.job_environment(body["spec"], SETTINGS, "amazon", "amazon-g3")
    assert json.loads(env["RECSYS_JOB_HYPERPARAMETERS"]) == {"loss": "softmax", "temperature": 0.1,
                                                             "num_negatives": 2048, "lr_schedule": "cosine",
                                                             "recent_item_weight": 0.5, "hard_negatives": 1}
    settings = JobSettings.from_env(env)  # the Job's own parser: what the operator writes, it must take
    config = TrainConfig(model=settings.model, **settings.hyperparameters).resolved()
    assert (config.loss, config.num_negatives, config.temperature, config.lr_schedule,
            config.recent_item_weight) == ("softmax", 2048, 0.1, "cosine", 0.5)


def test_cpu_only_jobs_ask_for_no_gpu():
    body = {**BODY, "spec": {**BODY["spec"], "training": {"gpus": 0}}}
    limits = manifests.training_job(body, SETTINGS, "v")["spec"]["template"]["spec"]["containers"][0]["resources"]
    assert "nvidia.com/gpu" not in limits["limits"]


def test_split_routes_move_traffic_in_steps():
    assert [r.weight for r in manifests.split_routes(SETTINGS, "v1", "v2", 10)] == [0.9, 0.1]
    routes = manifests.split_routes(SETTINGS, "v1", None, 0)
    assert [(r.name, r.weight) for r in routes] == [("v1", 1.0)]
    assert routes[0].embedding == "recsys-embedding-stable:50054"
    canary = manifests.split_routes(SETTINGS, "v1", "v2", 50)[1]
    assert canary.retrieval == "recsys-retrieval-canary:50052" and canary.scoring == "recsys-scoring-canary:50053"
    assert manifests.split_routes(SETTINGS, None, None, 0) == ()  # nothing serves yet
    assert [r.name for r in manifests.split_routes(SETTINGS, None, "v2", 10)] == ["v2"]


def test_the_split_configmap_is_what_the_gateway_reads(tmp_path):
    split = TrafficSplit(manifests.split_routes(SETTINGS, "v1", "v2", 10))
    configmap = manifests.split_configmap(SETTINGS, "shop", "amazon", split)
    assert configmap["metadata"]["name"] == "amazon-traffic-split" and configmap["metadata"]["namespace"] == "shop"
    (tmp_path / "routes.json").write_text(configmap["data"]["routes.json"])
    assert load_split(tmp_path / "routes.json") == split
    assert json.loads(configmap["data"]["routes.json"])["routes"][0] == {
        "name": "v1", "weight": 0.9, "embedding": "recsys-embedding-stable:50054",
        "retrieval": "recsys-retrieval-stable:50052", "scoring": "recsys-scoring-stable:50053"}


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
    crd_path = Path(__file__).resolve().parents[2] / "operator" / "crds" / "recommendermodel.yaml"
    crd = yaml.safe_load(crd_path.read_text())
    version = crd["spec"]["versions"][0]
    spec = version["schema"]["openAPIV3Schema"]["properties"]["spec"]
    assert spec["required"] == ["algorithm", "dataset"]
    assert spec["properties"]["algorithm"]["enum"] == ["ncf", "lightgcn"]
    assert version["subresources"] == {"status": {}}
    assert {c["name"] for c in version["additionalPrinterColumns"]} >= {"Algorithm", "Phase", "Metric", "Canary", "Age"}
    assert "rm" in crd["spec"]["names"]["shortNames"]


def test_a_spec_the_operator_cannot_serve_fails_permanently(monkeypatch):
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


def test_a_training_image_outside_the_allowlist_fails_permanently(monkeypatch):
    """Creating a RecommenderModel must not run an arbitrary image next to the artifacts volume."""
    monkeypatch.setattr(kopf, "warn", lambda body, reason, message: None)
    memo = kopf.Memo(settings=OperatorSettings(training_image="recsys.local/recsys:1",
                                               training_images=("registry.example.com/recsys:*",)))
    body = {"metadata": {"name": "m", "namespace": "default", "generation": 1},
            "spec": {"algorithm": "ncf", "dataset": {"uri": "synthetic"}, "training": {"image": "evil/miner:1"}}}
    patch = kopf.Patch()
    with pytest.raises(kopf.PermanentError, match="training.image 'evil/miner:1' is not allowed"):
        handlers.train(body=body, spec=body["spec"], meta=body["metadata"], status={}, namespace="default",
                       patch=patch, memo=memo)
    assert patch["status"]["phase"] == "Failed"
    assert patch["status"]["conditions"][0]["reason"] == "ImageNotAllowed"


def test_training_images_default_to_the_operators_and_match_its_patterns():
    settings = OperatorSettings.from_env({"RECSYS_TRAINING_IMAGE": "recsys.local/recsys:0.1.0-abc",
                                          "RECSYS_TRAINING_IMAGES": "registry.example.com/recsys:*, other/img:2"})
    assert settings.image_allowed("recsys.local/recsys:0.1.0-abc")
    assert settings.image_allowed("registry.example.com/recsys:0.2.0") and settings.image_allowed("other/img:2")
    assert not settings.image_allowed("registry.example.com/other:1") and not settings.image_allowed("other/img:3")
    assert not OperatorSettings.from_env({}).image_allowed("busybox")
    body = {"metadata": {"name": "m", "namespace": "default", "uid": "u"},
            "spec": {"algorithm": "ncf", "dataset": {"uri": "synthetic"}, "training": {"gpus": 0}}}
    job = manifests.training_job(body, settings, "m-1")
    assert job["spec"]["template"]["spec"]["containers"][0]["image"] == "recsys.local/recsys:0.1.0-abc"


# ---------------------------------------------------------------------------------- settings


def test_settings_defaults_and_every_variable_from_the_environment():
    assert OperatorSettings.from_env({}) == OperatorSettings()
    env = {"RECSYS_OPERATOR_NAMESPACES": "shop, staging,", "RECSYS_ARTIFACTS_ROOT": "/data",
           "RECSYS_ARTIFACTS_CLAIM": "claim", "RECSYS_JOB_SERVICE_ACCOUNT": "trainer",
           "RECSYS_TRAINING_IMAGE": "r/recsys:1", "RECSYS_TRAINING_IMAGES": "r/recsys:*",
           "RECSYS_TRAFFIC_SPLIT_CONFIGMAP": "split-{model}", "RECSYS_ROUTE_TEMPLATE": "{service}-{track}.svc:{port}",
           "RECSYS_DATABASE_URL": "postgresql://db/recsys", "RECSYS_DATABASE_SECRET": "recsys-db",
           "RECSYS_DATABASE_CA_SECRET": "recsys-postgresql-tls", "RECSYS_OPERATOR_INTERVAL_SECONDS": "0.5",
           "RECSYS_OPERATOR_PEERING": "none", "RECSYS_OPERATOR_PRIORITY": "7",
           "RECSYS_OPERATOR_LIVENESS": "http://0.0.0.0:8080/healthz", "RECSYS_METRICS_PORT": "-1",
           "RECSYS_LOG_LEVEL": "debug", "RECSYS_TLS_DIR": "/etc/recsys/tls"}
    assert set(env) == {s.name for s in DECLARED}  # the test covers every declared setting
    settings = OperatorSettings.from_env(env)
    assert settings == OperatorSettings(
        artifacts_root=Path("/data"), artifacts_claim="claim", job_service_account="trainer",
        training_image="r/recsys:1", training_images=("r/recsys:*",),
        split_configmap="split-{model}", route_template="{service}-{track}.svc:{port}",
        database_url="postgresql://db/recsys", database_secret=("recsys-db", "url"),
        database_ca_secret="recsys-postgresql-tls", interval_s=0.5, namespaces=("shop", "staging"), peering="none",
        priority=7, liveness="http://0.0.0.0:8080/healthz", metrics_port=-1, log_level="DEBUG",
        metrics_tls_dir=Path("/etc/recsys/tls"))
    assert not settings.peering_mandatory and OperatorSettings().peering_mandatory
    assert settings.split_name("amazon") == "split-amazon"
    assert settings.route("v1", "canary", 1.0).scoring == "scoring-canary.svc:50053"


@pytest.mark.parametrize("name, value", [
    ("RECSYS_OPERATOR_INTERVAL_SECONDS", "0"), ("RECSYS_OPERATOR_INTERVAL_SECONDS", "soon"),
    ("RECSYS_OPERATOR_INTERVAL_SECONDS", "nan"), ("RECSYS_METRICS_PORT", "http"), ("RECSYS_METRICS_PORT", "70000"),
    ("RECSYS_OPERATOR_PRIORITY", "high"), ("RECSYS_LOG_LEVEL", "loud"), ("RECSYS_DATABASE_SECRET", "a/b/c"),
    ("RECSYS_ROUTE_TEMPLATE", "recsys-{service}-{stage}:{port}"), ("RECSYS_TRAFFIC_SPLIT_CONFIGMAP", "{name}-split"),
])
def test_a_bad_setting_is_a_settings_error_naming_it(name, value):
    with pytest.raises(SettingsError, match=name):
        OperatorSettings.from_env({name: value})


def test_settings_from_a_config_file_under_the_environment(tmp_path):
    config = tmp_path / "operator.toml"
    config.write_text('RECSYS_OPERATOR_INTERVAL_SECONDS = 2.5\nRECSYS_OPERATOR_PRIORITY = 5\n'
                      'RECSYS_ARTIFACTS_ROOT = "/from-file"\n')
    environ = {"RECSYS_OPERATOR_PRIORITY": "9", "HOME": "/home/op"}
    settings = OperatorSettings.from_env(effective_environment(config, DECLARED, environ))
    assert settings.interval_s == 2.5 and settings.artifacts_root == Path("/from-file")
    assert settings.priority == 9  # the environment wins over the file


def test_unknown_config_keys_are_rejected(tmp_path):
    config = tmp_path / "operator.toml"
    config.write_text("RECSYS_OPERATOR_INTERVAL_SECOND = 2\n")  # a typo must not be silently ignored
    with pytest.raises(SettingsError, match="RECSYS_OPERATOR_INTERVAL_SECOND"):
        effective_environment(config, DECLARED, {})


def test_settings_are_not_read_at_import_time():
    bad = {name: "not a number" for name in ("RECSYS_OPERATOR_INTERVAL_SECONDS", "RECSYS_METRICS_PORT",
                                              "RECSYS_OPERATOR_PRIORITY")}
    result = subprocess.run([sys.executable, "-c", "import recsys_operator.main, cli.main; cli.main.build_parser()"],
                            env={**os.environ, **bad}, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr  # only from_env, called in main, reads them


# ---------------------------------------------------------------------------------- registration and main


def _handler(handlers_of, fn):
    return next(h for h in handlers_of.get_all_handlers() if h.fn is fn)


def test_the_interval_setting_reaches_the_timer_registration():
    registry = handlers.register(kopf.OperatorRegistry(), OperatorSettings(interval_s=2.5))
    timer = _handler(registry._spawning, handlers.advance)
    assert timer.interval == 2.5 and timer.idle == 2.5 and timer.initial_delay == 1.0
    assert _handler(registry._activities, handlers.configure).activity.value == "startup"
    assert _handler(registry._activities, kopf.login_via_client).activity.value == "authentication"
    train = [h for h in registry._changing.get_all_handlers() if h.fn is handlers.train]
    assert sorted(h.reason or "resume" for h in train) == ["create", "resume", "update"]
    assert [h.fn for h in registry._changing.get_all_handlers() if h.reason == "delete"] == [handlers.clean_up]
    other = handlers.register(kopf.OperatorRegistry(), OperatorSettings(interval_s=30))
    assert _handler(other._spawning, handlers.advance).interval == 30


def test_the_startup_handler_tunes_kopf_from_memo_settings(monkeypatch):
    import telemetry.setup

    started = []
    monkeypatch.setattr(handlers, "_load_kube_credentials", lambda: None)
    monkeypatch.setattr(telemetry.setup, "start_metrics_server", lambda port, tls=None: started.append(port) or port)
    kopf_settings = kopf.OperatorSettings()
    ours = OperatorSettings(peering="replicas", priority=7, metrics_port=9196)
    handlers.configure(settings=kopf_settings, memo=kopf.Memo(settings=ours))
    assert started == [9196]
    assert kopf_settings.peering.name == "replicas" and kopf_settings.peering.mandatory
    assert kopf_settings.peering.priority == 7 and kopf_settings.persistence.finalizer == "recsys.dev/cleanup"
    handlers.configure(settings=kopf.OperatorSettings(), memo=kopf.Memo(settings=OperatorSettings(metrics_port=-1)))
    assert started == [9196]  # negative: no metrics server


def test_main_runs_kopf_with_the_registry_and_the_settings(monkeypatch):
    from recsys_operator import main

    ran = {}
    monkeypatch.setattr(kopf, "configure", lambda **kwargs: None)
    monkeypatch.setattr(kopf, "run", lambda **kwargs: ran.update(kwargs))
    settings = OperatorSettings(namespaces=("shop",), liveness="http://0.0.0.0:8080/healthz", interval_s=3)
    main.main(settings)
    assert ran["memo"].settings is settings and ran["namespaces"] == ["shop"] and ran["clusterwide"] is False
    assert ran["liveness_endpoint"] == "http://0.0.0.0:8080/healthz"
    assert _handler(ran["registry"]._spawning, handlers.advance).interval == 3
    main.main(OperatorSettings())
    assert ran["namespaces"] == [] and ran["clusterwide"] is True and ran["liveness_endpoint"] is None


# ---------------------------------------------------------------------------------- the CLI


def test_operator_help_lists_every_setting(capsys):
    from cli.main import main

    with pytest.raises(SystemExit) as exit_info:
        main(["operator", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "--config FILE" in out
    for setting in DECLARED:
        assert setting.name in out


@pytest.mark.parametrize("env, config, message", [
    ({"RECSYS_OPERATOR_INTERVAL_SECONDS": "soon"}, None, "RECSYS_OPERATOR_INTERVAL_SECONDS must be a number"),
    ({}, "RECSYS_OPERATOR_PRIORTY = 3", "unknown setting(s) RECSYS_OPERATOR_PRIORTY"),
    ({}, "RECSYS_METRICS_PORT = \"metrics\"", "RECSYS_METRICS_PORT must be an integer"),
])
def test_a_bad_operator_setting_is_one_line_and_a_non_zero_exit(monkeypatch, capsys, tmp_path, env, config, message):
    from cli.main import main

    monkeypatch.setattr(kopf, "run", lambda **kwargs: pytest.fail("the operator must not start"))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    argv = ["operator"]
    if config is not None:
        (tmp_path / "operator.toml").write_text(config + "\n")
        argv += ["--config", str(tmp_path / "operator.toml")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("recsys operator: error: ") and message in err


# ---------------------------------------------------------------------------------- the steps


def test_promoting_flips_the_stable_track_and_writes_the_split(monkeypatch, tmp_path):
    applied = []
    monkeypatch.setattr(handlers.kube, "apply_configmap", applied.append)
    monkeypatch.setattr(kopf, "info", lambda body, reason, message: None)
    body = {"metadata": {"name": "amazon", "namespace": "shop", "generation": 2},
            "spec": {"algorithm": "lightgcn", "dataset": {"uri": "synthetic"}, "rollout": {"strategy": "direct"}}}
    status = {"phase": "Evaluating", "version": "amazon-g2", "metrics": {"ndcg@20": 0.3}}
    res = handlers.Resource(body, body["spec"], body["metadata"], status, "shop", kopf.Patch(),
                            OperatorSettings(artifacts_root=tmp_path))
    handlers._evaluate(res)
    assert res.patch["status"]["phase"] == "Promoted" and res.patch["status"]["productionVersion"] == "amazon-g2"
    assert track_version(tmp_path / "amazon", "stable") == "amazon-g2"
    (configmap,) = applied
    assert configmap["metadata"]["name"] == "amazon-traffic-split"
    assert json.loads(configmap["data"]["routes.json"])["routes"][0]["name"] == "amazon-g2"


def test_nothing_serving_leaves_the_split_alone(monkeypatch, tmp_path):
    applied = []
    monkeypatch.setattr(handlers.kube, "apply_configmap", applied.append)
    body = {"metadata": {"name": "amazon", "namespace": "shop"}, "spec": {"algorithm": "lightgcn"}}
    res = handlers.Resource(body, body["spec"], body["metadata"], {}, "shop", kopf.Patch(),
                            OperatorSettings(artifacts_root=tmp_path))
    handlers._write_split(res, None, None, 0)
    assert applied == []


@pytest.mark.parametrize("result", [{"status": "succeeded", "metric": "ndcg@20"},
                                    {"status": "succeeded", "metric": "ndcg@20", "value": "high"},
                                    {"status": "succeeded", "value": 0.3},
                                    {"status": "succeeded", "metric": "ndcg@20", "value": float("nan")}])
def test_a_result_without_a_numeric_metric_fails_with_the_reason(monkeypatch, tmp_path, result):
    """Before, formatting the value raised on every timer tick and the resource stayed in Training."""
    monkeypatch.setattr(kopf, "warn", lambda body, reason, message: None)
    monkeypatch.setattr(handlers.kube, "read_job", lambda namespace, name: object())
    monkeypatch.setattr(handlers.kube, "job_outcome", lambda job: ("succeeded", "done"))
    settings = OperatorSettings(artifacts_root=tmp_path)
    body = {"metadata": {"name": "amazon", "namespace": "shop", "generation": 1}, "spec": {"algorithm": "ncf"}}
    status = {"phase": "Training", "version": "amazon-g1", "jobName": "train-amazon-g1"}
    result_path = handlers.manifests.artifact_dir(settings, "amazon", "amazon-g1") / "result.json"
    result_path.parent.mkdir(parents=True)
    result_path.write_text(json.dumps(result))
    res = handlers.Resource(body, body["spec"], body["metadata"], status, "shop", kopf.Patch(), settings)
    handlers._check_training(res)
    assert res.patch["status"]["phase"] == "Failed" and "no numeric value" in res.patch["status"]["message"]


def test_a_canary_without_enough_traffic_ends_when_its_wait_is_over(monkeypatch, tmp_path):
    """minImpressions never reached: after rollout.maxWaitSeconds the version is rolled back, with why."""
    import datetime as dt

    monkeypatch.setattr(kopf, "warn", lambda body, reason, message: None)
    monkeypatch.setattr(handlers.kube, "apply_configmap", lambda manifest: None)
    few = {"impressions": 3, "clicks": 1, "add_to_carts": 0, "purchases": 0}
    monkeypatch.setattr(handlers, "_online_counts", lambda *args: (few, few))
    settings = OperatorSettings(artifacts_root=tmp_path)
    rollout = {"analysisWindowSeconds": 60, "minImpressions": 100, "maxWaitSeconds": 600}
    body = {"metadata": {"name": "amazon", "namespace": "shop", "generation": 2},
            "spec": {"algorithm": "lightgcn", "rollout": rollout}}

    def analyse(minutes_ago: int) -> kopf.Patch:
        started = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes_ago)).isoformat()
        status = {"phase": "Canary", "version": "amazon-g2", "productionVersion": "amazon-g1",
                  "stepStartedAt": started, "stepIndex": 0}
        res = handlers.Resource(body, body["spec"], body["metadata"], status, "shop", kopf.Patch(), settings)
        handlers._analyse_canary(res)
        return res.patch

    assert analyse(5)["status"]["message"].startswith("waiting:")  # within the wait: keep waiting
    ended = analyse(11)["status"]
    assert ended["phase"] == "RolledBack" and "maxWaitSeconds" in ended["message"]


def test_a_job_training_from_the_store_reads_the_url_from_the_secret():
    """The password must not be copied into the Job's plain environment when a Secret holds it."""
    body = {"metadata": {"name": "amazon", "namespace": "shop"},
            "spec": {"algorithm": "ncf", "dataset": {"uri": "store"}, "training": {"gpus": 0}}}
    with_secret = OperatorSettings(database_url="postgresql://u:s3cret@db/recsys",
                                   database_secret=("recsys-db", "url"))
    env = manifests.training_job(body, with_secret, "amazon-g1")["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "RECSYS_DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": "recsys-db", "key": "url"}}} in env
    assert "s3cret" not in json.dumps(env)
    pod = manifests.training_job(body, with_secret, "amazon-g1")["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    plain = manifests.training_job(body, OperatorSettings(database_url="sqlite:///x.db"), "amazon-g1")
    assert {"name": "RECSYS_DATABASE_URL", "value": "sqlite:///x.db"} in \
        plain["spec"]["template"]["spec"]["containers"][0]["env"]


def test_a_job_training_from_a_tls_store_mounts_only_the_ca_and_requires_verify_full():
    body = {"metadata": {"name": "amazon", "namespace": "shop"},
            "spec": {"algorithm": "ncf", "dataset": {"uri": "store"}, "training": {"gpus": 0}}}
    settings = OperatorSettings.from_env({"RECSYS_DATABASE_URL": "postgresql://u:p@db/recsys",
                                          "RECSYS_DATABASE_SECRET": "recsys-db",
                                          "RECSYS_DATABASE_CA_SECRET": "recsys-postgresql-tls"})
    pod = manifests.training_job(body, settings, "amazon-g1")["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert {"name": "PGSSLMODE", "value": "verify-full"} in container["env"]
    assert {"name": "PGSSLROOTCERT", "value": "/etc/recsys/database-ca/ca.crt"} in container["env"]
    # the server's key sits in the same Secret: only ca.crt is projected into the Job
    assert {"name": "database-ca", "secret": {"secretName": "recsys-postgresql-tls",
                                              "items": [{"key": "ca.crt", "path": "ca.crt"}]}} in pod["volumes"]
    mount = {"name": "database-ca", "mountPath": "/etc/recsys/database-ca", "readOnly": True}
    assert mount in container["volumeMounts"]
    # a Job that does not read the store gets neither
    synthetic = {**body, "spec": {**body["spec"], "dataset": {"uri": "synthetic"}}}
    pod = manifests.training_job(synthetic, settings, "amazon-g1")["spec"]["template"]["spec"]
    assert all(v["name"] != "database-ca" for v in pod["volumes"])
    assert all(e["name"] != "PGSSLMODE" for e in pod["containers"][0]["env"])


def test_the_liveness_heartbeat_goes_stale_when_the_event_loop_stops_running_tasks():
    from recsys_operator.liveness import LoopHeartbeat

    now = [100.0]
    heartbeat = LoopHeartbeat(interval_s=5, stale_after_s=60, clock=lambda: now[0])
    assert heartbeat.problem() is None  # a starting loop has the same grace
    now[0] = 161.0
    assert heartbeat.problem() == "the operator's event loop has not run a task for 61 s"

    async def beat_once() -> None:
        task = asyncio.get_running_loop().create_task(heartbeat.run())
        await asyncio.sleep(0)  # the task runs its first beat
        task.cancel()

    asyncio.run(beat_once())
    assert heartbeat.last_beat == 161.0 and heartbeat.problem() is None


def test_the_startup_handler_ties_livez_to_the_event_loop(monkeypatch):
    import telemetry.setup

    monkeypatch.setattr(telemetry.setup.LIVENESS, "problem", None)
    memo = kopf.Memo()

    async def start() -> None:
        await handlers.start_heartbeat(memo=memo)
        await asyncio.sleep(0)
        memo.heartbeat.cancel()

    asyncio.run(start())
    assert telemetry.setup.LIVENESS.problem() is None


def test_recency_weighted_pairs_reach_the_training_job():
    hyper = {"loss": "bpr", "hardNegatives": 32, "recencyWeight": 6}
    body = {**BODY, "spec": {**BODY["spec"], "algorithm": "lightgcn", "hyperparameters": hyper}}
    env = manifests.job_environment(body["spec"], SETTINGS, "amazon", "amazon-g3")
    assert json.loads(env["RECSYS_JOB_HYPERPARAMETERS"]) == {"loss": "bpr", "hard_negatives": 32,
                                                             "recency_weight": 6}
    settings = JobSettings.from_env(env)
    config = TrainConfig(model=settings.model, **settings.hyperparameters).resolved()
    assert (config.model, config.hard_negatives, config.recency_weight) == ("lightgcn", 32, 6)


def test_refit_reaches_the_training_job():
    body = {**BODY, "spec": {**BODY["spec"], "training": {**BODY["spec"].get("training", {}), "refit": True}}}
    env = manifests.job_environment(body["spec"], SETTINGS, "amazon", "amazon-g3")
    assert env["RECSYS_JOB_REFIT"] == "true" and JobSettings.from_env(env).refit
    assert manifests.job_environment(BODY["spec"], SETTINGS, "amazon", "amazon-g3")["RECSYS_JOB_REFIT"] == "false"


def test_the_recency_shape_reaches_the_training_job():
    hyper = {"recencyWeight": 4, "recencyShape": "exponential"}
    body = {**BODY, "spec": {**BODY["spec"], "algorithm": "lightgcn", "hyperparameters": hyper}}
    env = manifests.job_environment(body["spec"], SETTINGS, "amazon", "amazon-g3")
    settings = JobSettings.from_env(env)
    config = TrainConfig(model=settings.model, **settings.hyperparameters).resolved()
    assert (config.recency_weight, config.recency_shape) == (4, "exponential")
