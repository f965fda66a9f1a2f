"""Development only (RECSYS_DEV_RELOAD=1, on, true or yes): re-execute the running `recsys` command when its Python
source changes, so code that `tilt up` syncs into a container takes effect without rebuilding the
image. Models hot-reload on their own in every mode; this is about code."""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)
PACKAGES = ("core", "models", "store", "events", "telemetry", "training", "services", "stream", "cli",
            "recsys_operator", "recsys")


def _package_roots() -> list[Path]:
    """Every package's folder, whether or not this process has imported it yet: a package imported
    later (lazily, by a command) is not a changed source."""
    roots = []
    for name in PACKAGES:
        spec = importlib.util.find_spec(name)
        roots += [Path(root) for root in (spec.submodule_search_locations or [])] if spec else []
    return roots


def _snapshot(roots: list[Path]) -> dict[Path, float]:
    stamps = {}
    for root in roots:
        for path in root.rglob("*.py"):
            try:
                stamps[path] = path.stat().st_mtime
            except FileNotFoundError:
                pass
    return stamps


def watch_and_reexec(interval_s: float = 1.0) -> None:
    """Start a daemon thread that re-executes this process when a source file changes."""
    roots = _package_roots()

    def loop() -> None:
        before = _snapshot(roots)
        while True:
            time.sleep(interval_s)
            now = _snapshot(roots)
            if now != before:
                changed = sorted(str(p) for p in set(now) ^ set(before) | {p for p in now if before.get(p) != now[p]})
                log.warning("source changed (%s): restarting %s", changed[0], " ".join(sys.argv))
                os.execv(sys.executable, [sys.executable, "-m", "cli.main", *sys.argv[1:]])
                return  # only reached if execv was replaced (tests)

    threading.Thread(target=loop, name="dev-reload", daemon=True).start()
