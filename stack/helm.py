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
