"""vegeta, the HTTP load generator, built from its Go module with the machine's Go (once, into the
cache): an independent client for the HTTP API's benchmark, lighter on the shared cores than any
Python client."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from stack.process import CACHE_DIR, StackError

VEGETA_VERSION = "v12.13.0"


def vegeta_binary() -> Path:
    binary = CACHE_DIR / f"vegeta-{VEGETA_VERSION}" / "vegeta"
    if binary.exists():
        return binary
    if shutil.which("go") is None:
        raise StackError("building vegeta needs the Go toolchain on PATH")
    binary.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(["go", "install", f"github.com/tsenart/vegeta/v12@{VEGETA_VERSION}"],
                            env={**os.environ, "GOBIN": str(binary.parent), "CGO_ENABLED": "0", "GOFLAGS": "-mod=mod"},
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise StackError(f"go install vegeta failed:\n{result.stderr[-4000:]}")
    return binary
