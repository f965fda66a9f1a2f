"""The Tiltfile evaluates with a real tilt (built from its Go module) against the stack's API
server: the image build with live updates, the application chart's objects, port forwards,
labels and the local resources. No cluster here can run images, so nothing is deployed; the
infrastructure file (tilt/infra.Tiltfile) needs tilt's extension repository from GitHub and is
not evaluated here."""

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


@pytest.fixture(scope="module")
def tiltfile_result(kube_apiserver, tmp_path_factory):
    settings = tmp_path_factory.mktemp("tilt") / "tilt-settings.json"
    settings.write_text(json.dumps({"allow_k8s_contexts": ["stack"], "infrastructure": False, "namespace": "dev"}))
    env = {**os.environ, "KUBECONFIG": str(kube_apiserver.kubeconfig), "TILT_SETTINGS": str(settings),
           "PATH": f"{helm_binary().parent}:{os.environ['PATH']}", "TILT_DISABLE_ANALYTICS": "1"}
    result = subprocess.run([str(tilt_binary()), "alpha", "tiltfile-result", "-f", "Tiltfile"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads(result.stdout)


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
