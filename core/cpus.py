"""How many CPUs this process may actually use, and how many of them other work keeps busy now.

`os.cpu_count()` counts the machine's cores; a container limited by a CPU quota, or a process pinned
to some cores, gets fewer. Thread pools sized from the machine's count then oversubscribe what the
process has, and torch's OpenMP threads wait on each other at every parallel region (see
models/threads.py).
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

CGROUP = Path("/sys/fs/cgroup")
PROC_STAT = Path("/proc/stat")
OWN_TASKS = Path("/proc/self/task")


def cgroup_cpu_quota(cgroup: Path = CGROUP) -> float | None:
    """CPUs the cgroup's quota allows (v2 ``cpu.max`` "quota period", v1 cfs quota/period), or None."""
    try:
        quota, period = (cgroup / "cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        quota_us = int((cgroup / "cpu" / "cpu.cfs_quota_us").read_text())
        period_us = int((cgroup / "cpu" / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return None if quota_us <= 0 or period_us <= 0 else quota_us / period_us


def available_cpus(cgroup: Path = CGROUP) -> int:
    """The CPUs this process may run on (its affinity) within its cgroup's quota, at least 1."""
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        count = os.cpu_count() or 1
    quota = cgroup_cpu_quota(cgroup)
    if quota is not None:
        count = min(count, max(1, int(quota)))  # a partial CPU is not worth a thread that stalls the rest
    return max(1, count)


def runnable_elsewhere(samples: int = 5, interval_s: float = 0.002, stat: Path = PROC_STAT,
                       own_tasks: Path = OWN_TASKS) -> float:
    """Runnable tasks of other processes right now: ``procs_running`` of /proc/stat minus this
    process's own running threads (a worker still spinning after its last parallel region is ours,
    not competition); the median of a few samples. 0 where it cannot be read."""
    counts = []
    for i in range(samples):
        try:
            running = next(int(line.split()[1]) for line in stat.read_text().splitlines()
                           if line.startswith("procs_running "))
        except (OSError, ValueError, StopIteration):
            return 0.0
        counts.append(running - _own_running(own_tasks))
        if i + 1 < samples:
            time.sleep(interval_s)
    return max(0.0, statistics.median(counts))


def _own_running(tasks: Path) -> int:
    """This process's threads in state R (running or runnable), the caller included; at least 1."""
    running = 0
    try:
        entries = list(tasks.iterdir())
    except OSError:
        return 1
    for task in entries:
        try:
            # the state follows the parenthesised command name, which may itself hold spaces
            if (task / "stat").read_text().rsplit(")", 1)[1].split()[0] == "R":
                running += 1
        except (OSError, IndexError):
            continue  # a thread that ended meanwhile
    return max(1, running)
