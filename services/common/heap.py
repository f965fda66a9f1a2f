"""The cyclic garbage collector in a serving process: long-lived objects frozen once a model is in.

A serving process holds a few hundred thousand objects that live as long as it does (the model,
the catalogue, the libraries' own). Python's full (generation 2) collection walks every one of them
with the GIL held, so all calls in flight wait: measured 110-170 ms per pass, one about every 20 s
under load, on the quickstart's models (`recsys serve all`, 2 busy cores). Once a model is loaded
the process collects once and then freezes what is alive (``gc.freeze``): frozen objects are left
out of later passes, which then see only what calls allocate (0.5-0.7 ms per pass, same load).
Reference counting still frees frozen objects, so a replaced model goes away as before; only a
reference cycle among frozen objects would outlive it, so a reload unfreezes, collects and freezes
again (one full pass per new model version).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable

from core.settings import Setting

log = logging.getLogger(__name__)

GC_FREEZE_SETTING = Setting(
    "RECSYS_GC_FREEZE", "on",
    "after a model is loaded, keep the objects then alive out of the garbage collector's full passes "
    "(shorter pauses under load); off: the collector as Python sets it")


def freeze_long_lived() -> int:
    """Collect everything (frozen objects included: they may hold a replaced model's cycles), then
    freeze what is still alive; returns how many objects are frozen."""
    started = time.perf_counter()
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    log.info("garbage collector: %d long-lived objects frozen (%.0f ms)", frozen,
             (time.perf_counter() - started) * 1000)
    return frozen


class FreezeAfterInstalls:
    """``after_install`` shared by the watchers of one process's parts (`serve all` reloads four
    from one artifact version): each install postpones a single freeze until installs have stopped
    for ``quiet_s``, so a new version costs one full collection, not one per part. Called on the
    event loop, as watch_artifact does."""

    def __init__(self, quiet_s: float = 2.0, freeze: Callable[[], object] = freeze_long_lived) -> None:
        self.quiet_s = quiet_s
        self.freeze = freeze
        self._pending: asyncio.TimerHandle | None = None

    def __call__(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
        self._pending = asyncio.get_running_loop().call_later(self.quiet_s, self.freeze)
