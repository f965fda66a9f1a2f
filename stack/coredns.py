"""CoreDNS, built from its Go module (stack/coredns/go.mod) once into the cache: the local cluster's
DNS server (stack/cluster.py runs it on the node, behind the kube-dns Service)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from stack.process import CACHE_DIR, StackError

HERE = Path(__file__).resolve().parent / "coredns"
COREDNS_VERSION = "v1.12.4"  # keep in step with coredns/go.mod


def coredns_binary() -> Path:
    binary = CACHE_DIR / f"coredns-{COREDNS_VERSION}" / "bin" / "coredns"
    if binary.exists():
        return binary
    if shutil.which("go") is None:
        raise StackError("building CoreDNS needs the Go toolchain on PATH")
    src = binary.parent.parent / "src"
    shutil.rmtree(src, ignore_errors=True)
    shutil.copytree(HERE, src)
    binary.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-mod=mod"}
    partial = binary.with_suffix(".partial")
    result = subprocess.run(["go", "build", "-trimpath", "-ldflags=-s -w", "-o", str(partial),
                             "github.com/coredns/coredns"], cwd=src, env=env, capture_output=True, text=True,
                            check=False)
    if result.returncode != 0:
        raise StackError(f"go build coredns failed:\n{result.stderr[-4000:]}")
    partial.rename(binary)
    return binary
