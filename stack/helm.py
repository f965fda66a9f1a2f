"""helm, built from its Go module with the machine's Go (once, into the cache)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from stack.process import CACHE_DIR, StackError

HELM_VERSION = "v3.19.0"
# What helm's own release build stamps in: its version, and the Kubernetes version `helm template`
# and `helm lint` assume offline (a plain go install would assume 1.20).
LDFLAGS = " ".join([
    f"-X helm.sh/helm/v3/internal/version.version={HELM_VERSION}",
    "-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1", "-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=34",
    "-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1", "-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=34",
])
BUILD_REVISION = 2  # bump when the build changes, so a cached binary is rebuilt


def helm_binary() -> Path:
    binary = CACHE_DIR / f"helm-{HELM_VERSION}-{BUILD_REVISION}" / "bin" / "helm"
    if binary.exists():
        return binary
    if shutil.which("go") is None:
        raise StackError("building helm needs the Go toolchain on PATH")
    binary.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(["go", "install", f"-ldflags={LDFLAGS}", f"helm.sh/helm/v3/cmd/helm@{HELM_VERSION}"],
                            env={**os.environ, "GOBIN": str(binary.parent), "CGO_ENABLED": "0"},
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise StackError(f"go install helm failed:\n{result.stderr[-4000:]}")
    return binary


REPO = Path(__file__).resolve().parents[1]
STACK_CHART = REPO / "helm" / "recsys-stack"
# The umbrella's dependencies that live in this repository; the rest come from chart repositories.
LOCAL_SUBCHARTS = ("recsys", "recsys-deps")
# `helm install` wants every dependency in charts/, even a disabled one, and the prometheus-community
# repository cannot be reached here: this stands in for kube-prometheus-stack and refuses to render.
_PLACEHOLDER_TEMPLATE = """{{- fail "kube-prometheus-stack was not downloaded (python -m stack chart builds the chart \
offline): install with kube-prometheus-stack.enabled=false, or run `helm dependency build helm/recsys-stack` \
where https://prometheus-community.github.io/helm-charts is reachable" }}
"""


def offline_stack_chart(destination: Path) -> Path:
    """helm/recsys-stack copied to ``destination`` with its local subcharts packaged into charts/ and
    a placeholder for each remote one (installable only with that dependency disabled): what
    `helm dependency build` gives, without reaching any chart repository."""
    import yaml

    chart = destination / STACK_CHART.name
    if chart.exists():
        shutil.rmtree(chart)
    shutil.copytree(STACK_CHART, chart, ignore=shutil.ignore_patterns("charts", "Chart.lock", "*.tgz"))
    subcharts = chart / "charts"
    subcharts.mkdir()
    helm = str(helm_binary())
    for name in LOCAL_SUBCHARTS:
        result = subprocess.run([helm, "package", str(REPO / "helm" / name), "-d", str(subcharts)],
                                capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise StackError(f"helm package {name} failed: {result.stderr.strip()[-2000:]}")
    for dependency in yaml.safe_load((chart / "Chart.yaml").read_text())["dependencies"]:
        if dependency["name"] in LOCAL_SUBCHARTS:
            continue
        placeholder = subcharts / dependency["name"]
        (placeholder / "templates").mkdir(parents=True)
        (placeholder / "Chart.yaml").write_text(yaml.safe_dump({
            "apiVersion": "v2", "name": dependency["name"], "version": dependency["version"],
            "description": f"placeholder: {dependency['repository']} was not reachable when this chart was built"}))
        (placeholder / "templates" / "not-downloaded.yaml").write_text(_PLACEHOLDER_TEMPLATE)
    return chart
