"""Watching the traffic-split file (format in core/traffic_split.py) and installing changes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from core.errors import SettingsError
from core.traffic_split import TrafficSplit, load_split

log = logging.getLogger(__name__)


async def watch_split(path: Path, install: Callable[[TrafficSplit], None], interval_s: float) -> None:
    """Re-read the split file when it changes; an invalid file is logged and the old split stays."""
    last = path.stat().st_mtime_ns if path.exists() else None
    while True:
        await asyncio.sleep(interval_s)
        try:
            mtime = path.stat().st_mtime_ns
        except FileNotFoundError:
            continue
        if mtime == last:
            continue
        last = mtime
        try:
            split = load_split(path)
        except SettingsError as error:
            log.error("ignoring traffic split change: %s", error)
            continue
        install(split)
        log.info("traffic split now %s", ", ".join(f"{r.name}={split.share(r):.2f}" for r in split.routes))
