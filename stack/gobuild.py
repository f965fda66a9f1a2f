"""Building one command of a Go module pinned in this repository (stack/kube, stack/tilt,
stack/coredns), or a released Go tool at a pinned version (vegeta, ghz), into the cache, with the
machine's Go toolchain."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path

from stack.process import CACHE_DIR, StackError


def run_go(directory: Path, *args: str, env: Mapping[str, str] | None = None) -> None:
    result = subprocess.run(["go", *args], cwd=directory, env={**os.environ, "GOFLAGS": "-mod=mod", **(env or {})},
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise StackError(f"go {' '.join(args)} failed:\n{result.stderr[-4000:]}")


def go_build(module: Path, package: str, output: Path, ldflags: str = "-s -w",
             env: Mapping[str, str] | None = None, needs: tuple[str, ...] = ("go",),
             prepare: Callable[[Path], None] | None = None) -> Path:
    """``go build`` ``package`` of the Go module in ``module`` (copied beside ``output``'s folder, so
    the repository stays untouched) into ``output``, atomically; ``needs`` are the tools it takes,
    ``prepare`` runs on the copy first.
    Two processes building the same binary each use their own copy and file; the last rename wins."""
    missing = [tool for tool in needs if shutil.which(tool) is None]
    if missing:
        raise StackError(f"building {output.name} needs {' and '.join(missing)} on PATH")
    src = output.parent.parent / f"src-{os.getpid()}"
    shutil.rmtree(src, ignore_errors=True)
    shutil.copytree(module, src)
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_suffix(f".partial-{os.getpid()}")
    try:
        if prepare is not None:
            prepare(src)
        result = subprocess.run(["go", "build", "-trimpath", f"-ldflags={ldflags}", "-o", str(partial), package],
                                cwd=src, env={**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-mod=mod", **(env or {})},
                                capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise StackError(f"go build {package} failed:\n{result.stderr[-4000:]}")
        partial.rename(output)
    finally:
        partial.unlink(missing_ok=True)
        shutil.rmtree(src, ignore_errors=True)
    return output


def go_tool(name: str, package: str, version: str) -> Path:
    """The cached binary of ``package@version`` (``go install``), built on first use."""
    binary = CACHE_DIR / f"{name}-{version}" / name
    if binary.exists():
        return binary
    if shutil.which("go") is None:
        raise StackError(f"building {name} needs the Go toolchain on PATH")
    binary.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(["go", "install", f"{package}@{version}"],
                            env={**os.environ, "GOBIN": str(binary.parent), "CGO_ENABLED": "0", "GOFLAGS": "-mod=mod"},
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise StackError(f"go install {package}@{version} failed:\n{result.stderr[-4000:]}")
    return binary
