"""The Tiltfile evaluates with a real tilt (built from its Go module) against the stack's API
server: the image build with live updates (docker, or buildah through stack/image.py), the
application chart's objects, PostgreSQL and Kafka from helm/recsys-deps, port forwards, labels and
the local resources. Nothing is deployed here; `tilt ci` on the real node, which builds, deploys and
waits for every resource: tests/stack/test_product_on_node.py. The monitoring file
(tilt/monitoring.Tiltfile) needs tilt's extension repository from GitHub and is not evaluated."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from stack.helm import helm_binary
from stack.tilt import tilt_binary

pytestmark = pytest.mark.integration  # tilt built from its Go module, against the stack's API server

REPO = Path(__file__).resolve().parents[2]


def _evaluate(kube_apiserver, directory, **settings) -> dict:
    path = directory / "tilt-settings.json"
    path.write_text(json.dumps({"allow_k8s_contexts": ["stack"], "monitoring": False, "namespace": "dev", **settings}))
    env = {**os.environ, "KUBECONFIG": str(kube_apiserver.kubeconfig), "TILT_SETTINGS": str(path),
           "PATH": f"{helm_binary().parent}:{os.environ['PATH']}", "TILT_DISABLE_ANALYTICS": "1"}
    result = subprocess.run([str(tilt_binary()), "alpha", "tiltfile-result", "-f", "Tiltfile"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def tiltfile_result(kube_apiserver, tmp_path_factory):
    return _evaluate(kube_apiserver, tmp_path_factory.mktemp("tilt"))


def _manifest(result: dict, name: str) -> dict:
    return next(m for m in result["Manifests"] if m["Name"] == name)


def test_the_tiltfile_builds_the_image_with_live_update(tiltfile_result):
    image = _manifest(tiltfile_result, "shop-recsys-gateway")["ImageTargets"][0]
    assert image["selector"] == "recsys"
    live_update = image["LiveUpdateSpec"]
    packages = {"core", "models", "store", "events", "telemetry", "training", "services", "stream", "cli"}
    synced = {s["localPath"] for s in live_update["syncs"]}
    assert synced == packages | {"operator/recsys_operator", "gen/python/recsys"}
    assert set(live_update["stopPaths"]) == {"pyproject.toml", "Dockerfile"}  # these rebuild the image
    assert "RECSYS_DEV_RELOAD" in _manifest(tiltfile_result, "shop-recsys-gateway")["DeployTarget"]["yaml"]


def test_the_tiltfile_deploys_the_chart_with_port_forwards_and_labels(tiltfile_result):
    names = {m["Name"] for m in tiltfile_result["Manifests"]}
    assert {"shop-recsys-gateway", "shop-recsys-stream", "shop-recsys-operator", "proto", "unit-tests",
            *(f"shop-recsys-{c}-{t}" for c in ("retrieval", "scoring", "embedding") for t in ("stable", "canary"))
            } <= names
    gateway = _manifest(tiltfile_result, "shop-recsys-gateway")
    forwards = gateway["DeployTarget"]["portForwardTemplateSpec"]["forwards"]
    assert {(f["localPort"], f["containerPort"]) for f in forwards} == {(50051, 50051), (8080, 8080), (9091, 9091)}
    assert gateway["Labels"] == {"serving": "serving"}
    operator_yaml = _manifest(tiltfile_result, "shop-recsys-operator")["DeployTarget"]["yaml"]
    assert "kind: CustomResourceDefinition" in operator_yaml
    assert _manifest(tiltfile_result, "proto")["Labels"] == {"dev": "dev"}


def test_the_infrastructure_comes_from_the_repositorys_data_store_chart(tiltfile_result):
    for name in ("recsys-postgresql", "recsys-kafka"):
        manifest = _manifest(tiltfile_result, name)
        assert "kind: StatefulSet" in manifest["DeployTarget"]["yaml"] and manifest["Labels"] == {"infra": "infra"}
    gateway = _manifest(tiltfile_result, "shop-recsys-gateway")
    assert set(gateway["ResourceDependencies"]) == {"recsys-kafka", "recsys-postgresql"}
    assert "recsys-database" in gateway["DeployTarget"]["yaml"]  # the URL from the chart's Secret


def test_tilt_does_not_wait_for_the_canary_track(tiltfile_result):
    for component in ("retrieval", "scoring", "embedding"):
        canary = _manifest(tiltfile_result, f"shop-recsys-{component}-canary")["DeployTarget"]
        stable = _manifest(tiltfile_result, f"shop-recsys-{component}-stable")["DeployTarget"]
        assert canary["PodReadinessMode"] == "ignore" and stable["PodReadinessMode"] != "ignore"


def test_without_docker_the_image_is_built_with_buildah_and_never_pushed(kube_apiserver, tmp_path):
    result = _evaluate(kube_apiserver, tmp_path, builder="buildah", python="/venv/bin/python",
                       infrastructure=False, dev_resources=False)
    image = _manifest(result, "shop-recsys-gateway")["ImageTargets"][0]
    build = image["BuildDetails"]
    assert build["args"][-1] == "/venv/bin/python -m stack image --tilt-ref $EXPECTED_REF"
    assert build["outputMode"] == "remote"  # not in the local docker: the command puts it where the node finds it
    assert {"/Dockerfile", "/requirements", "/services"} <= {path.removeprefix(str(REPO)) for path in build["Deps"]}
    assert {s["localPath"] for s in image["LiveUpdateSpec"]["syncs"]} >= {"core", "services"}
    assert not {"proto", "unit-tests"} & {m["Name"] for m in result["Manifests"]}
