"""tilt, built from its Go module (stack/tilt/go.mod) once into the cache, to check the Tiltfile."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from stack.process import CACHE_DIR, StackError

HERE = Path(__file__).resolve().parent / "tilt"
TILT_VERSION = "v0.33.21"  # keep in step with tilt/go.mod


def tilt_binary() -> Path:
    binary = CACHE_DIR / f"tilt-{TILT_VERSION}" / "bin" / "tilt"
    if binary.exists():
        return binary
    if shutil.which("go") is None or shutil.which("gcc") is None:
        raise StackError("building tilt needs Go and gcc (its Starlark language server uses cgo)")
    src = binary.parent.parent / "src"
    shutil.rmtree(src, ignore_errors=True)
    shutil.copytree(HERE, src)
    binary.parent.mkdir(parents=True, exist_ok=True)
    # a few tilt-dev modules are served by the module proxy but absent from the checksum database
    env = {**os.environ, "CGO_ENABLED": "1", "GOFLAGS": "-mod=mod", "GONOSUMDB": "github.com/tilt-dev"}
    partial = binary.with_suffix(".partial")
    result = subprocess.run(["go", "build", "-trimpath", "-ldflags=-s -w", "-o", str(partial),
                             "github.com/tilt-dev/tilt/cmd/tilt"], cwd=src, env=env, capture_output=True, text=True,
                            check=False)
    if result.returncode != 0:
        raise StackError(f"go build tilt failed:\n{result.stderr[-4000:]}")
    partial.rename(binary)
    return binary
