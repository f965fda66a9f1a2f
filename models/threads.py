"""torch's CPU threads sized to the CPUs this process has, and to the ones free right now.

On 2 cores shared with other builds and trainings, LightGCN epochs took 25-35x longer than on idle
cores, where a fair share of the cores explains 3-5x. torch sizes its intra-op pool from the
machine's core count (not the process's affinity or cgroup quota), and every parallel region waits
for its slowest worker: with a core taken by other work, the worker sharing that core runs at a
fraction of its speed and the others spin until it catches up, on the cores it needs.

So :func:`configure_torch_threads` sizes the pool from :func:`core.cpus.available_cpus`, and
:func:`fit_threads_to_load`, called between epochs, uses only the cores that no other process's
runnable task wants at that moment. ``RECSYS_THREADS`` pins a count instead. Letting idle OpenMP
workers sleep (``OMP_WAIT_POLICY=PASSIVE``) also helps under load but costs 1.5x on idle cores, so
it is left to the user. Measured in benchmarks/shared_cores.py.
"""

from __future__ import annotations

import logging
import os
from collections.abc import MutableMapping

from core.cpus import available_cpus, runnable_elsewhere
from core.errors import SettingsError

log = logging.getLogger(__name__)
_configured: dict[str, int | bool] = {}


def configure_torch_threads(env: MutableMapping[str, str] | None = None, serving: bool = False) -> int:
    """Size torch's intra-op pool: ``RECSYS_THREADS`` if set; else the available CPUs for training,
    and 1 for serving, whose parallelism is its concurrent requests (and RECSYS_WORKERS processes,
    and replicas): 13-16% more requests per second on idle cores in two runs of
    benchmarks/serving_load.py --shared-cores (beside a busy process the two runs disagreed).
    Returns it."""
    import torch

    env = os.environ if env is None else env
    raw = env.get("RECSYS_THREADS", "").strip().lower()
    if raw in ("", "auto"):
        threads, adaptive = (1, False) if serving else (available_cpus(), True)
    else:
        try:
            threads = int(raw)
        except ValueError:
            raise SettingsError(f"RECSYS_THREADS must be a positive integer or auto, got '{raw}'") from None
        if threads < 1:
            raise SettingsError(f"RECSYS_THREADS must be at least 1, got {threads}")
        adaptive = False
    torch.set_num_threads(threads)
    _configured.update(max_threads=threads, adaptive=adaptive)
    return threads


def fit_threads_to_load() -> int:
    """Between epochs: use the configured CPUs minus those other runnable tasks want right now (at
    least 1). A pinned ``RECSYS_THREADS``, or a process that never called
    :func:`configure_torch_threads`, is left alone. Returns the threads now in use."""
    import torch

    if not _configured:  # the entry point did not size the pool: torch's defaults stay
        return torch.get_num_threads()
    most = int(_configured["max_threads"])
    if not _configured["adaptive"] or most == 1:
        return torch.get_num_threads()
    threads = max(1, min(most, round(most - runnable_elsewhere())))
    if threads != torch.get_num_threads():
        torch.set_num_threads(threads)
        log.debug("other work wants %d of %d CPUs: %d torch threads", most - threads, most, threads)
    return threads
