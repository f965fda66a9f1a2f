"""Development only (RECSYS_DEV_RELOAD=1, on, true or yes): re-execute the running `recsys` command when its Python
source changes, so code that `tilt up` syncs into a container takes effect without rebuilding the
image. Models hot-reload on their own in every mode; this is about code."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)
PACKAGES = ("core", "models", "store", "events", "telemetry", "training", "services", "stream", "cli",
            "recsys_operator", "recsys")


def _snapshot() -> dict[Path, float]:
    stamps = {}
    for name in PACKAGES:
        module = sys.modules.get(name)
        for root in getattr(module, "__path__", []) if module else []:
            for path in Path(root).rglob("*.py"):
                try:
                    stamps[path] = path.stat().st_mtime
                except FileNotFoundError:
                    pass
    return stamps


def watch_and_reexec(interval_s: float = 1.0) -> None:
    """Start a daemon thread that re-executes this process when a source file changes."""
    def loop() -> None:
        before = _snapshot()
        while True:
            time.sleep(interval_s)
            now = _snapshot()
            if now != before:
                changed = sorted(str(p) for p in set(now) ^ set(before) | {p for p in now if before.get(p) != now[p]})
                log.warning("source changed (%s): restarting %s", changed[0], " ".join(sys.argv))
                os.execv(sys.executable, [sys.executable, "-m", "cli.main", *sys.argv[1:]])
                return  # only reached if execv was replaced (tests)

    threading.Thread(target=loop, name="dev-reload", daemon=True).start()
