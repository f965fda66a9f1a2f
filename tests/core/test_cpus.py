"""CPUs available to the process (affinity within the cgroup quota) and runnable competitors."""

from __future__ import annotations

import os

from core.cpus import available_cpus, cgroup_cpu_quota, runnable_elsewhere


def test_cgroup_v2_quota(tmp_path):
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert cgroup_cpu_quota(tmp_path) == 1.5
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert cgroup_cpu_quota(tmp_path) is None


def test_cgroup_v1_quota(tmp_path):
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("50000\n")
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert cgroup_cpu_quota(tmp_path) == 0.5
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    assert cgroup_cpu_quota(tmp_path) is None


def test_no_cgroup_files_means_no_quota(tmp_path):
    assert cgroup_cpu_quota(tmp_path) is None
    assert available_cpus(tmp_path) == len(os.sched_getaffinity(0))


def test_available_cpus_never_exceeds_the_quota_nor_drops_below_one(tmp_path):
    (tmp_path / "cpu.max").write_text("50000 100000\n")  # half a CPU
    assert available_cpus(tmp_path) == 1
    (tmp_path / "cpu.max").write_text(f"{1000 * 100000} 100000\n")  # a quota above the affinity
    assert available_cpus(tmp_path) == len(os.sched_getaffinity(0))


def _task(root, tid: int, state: str) -> None:
    (root / str(tid)).mkdir(parents=True)
    (root / str(tid) / "stat").write_text(f"{tid} (python3 worker) {state} 1 2 3\n")


def test_runnable_elsewhere_subtracts_this_processs_own_running_threads(tmp_path):
    stat, tasks = tmp_path / "stat", tmp_path / "task"
    stat.write_text("cpu  1 2 3\nprocs_running 5\nprocs_blocked 0\n")
    for tid, state in ((1, "R"), (2, "R"), (3, "S"), (4, "R")):  # the reader and two spinning workers
        _task(tasks, tid, state)
    assert runnable_elsewhere(samples=3, interval_s=0, stat=stat, own_tasks=tasks) == 2
    assert runnable_elsewhere(stat=tmp_path / "missing") == 0.0
    assert runnable_elsewhere(samples=1) >= 0  # the real /proc files
