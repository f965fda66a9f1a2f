"""A node that a killed run left behind (stack/cluster.py `held_node`, `clear_node`): its directory is
found (from the owner file, a process's command line, or its containers' mounts) and everything it
left goes, so that one killed test run or `make cluster-up` session does not fail every later one.

Only the node's network namespace and veth are made here (no Kubernetes processes): that is what a
killed run leaves that the next `up` trips over."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from stack.cluster import HOST_IF, NETNS, OWNER_FILE, Cluster, HeldNode, clear_node, held_node
from stack.process import StackError, alive

pytestmark = pytest.mark.integration  # root: network namespaces, veths and mounts on this machine


def _left_network(root: Path) -> Cluster:
    """What a run killed after `up` made the network leaves: the namespace, the veth, the directory."""
    cluster = Cluster(root)
    (root / "run").mkdir(parents=True)
    cluster._network()
    return cluster


def _gone() -> None:
    assert not Path(f"/run/netns/{NETNS}").exists()
    assert subprocess.run(["ip", "link", "show", HOST_IF], capture_output=True).returncode != 0
    assert not OWNER_FILE.exists()


def test_a_node_with_nothing_running_is_found_by_its_owner_file_and_cleared(free_node_namespace, tmp_path):
    cluster = _left_network(tmp_path / "node")
    held = held_node()
    assert held is not None and held.root == cluster.root and held.processes == ()
    assert clear_node(held) == []
    _gone()
    assert not cluster.root.exists()
    assert held_node() is None


def test_a_process_left_running_names_its_node_and_is_stopped(free_node_namespace, tmp_path):
    """No owner file (a node made before it existed): the directory comes from a process's command line."""
    cluster = _left_network(tmp_path / "node")
    OWNER_FILE.unlink()
    config = cluster.root / "containerd" / "config.toml"
    left_running = subprocess.Popen(
        ["nsenter", f"--net=/run/netns/{NETNS}", "--", sys.executable, "-c", "import time; time.sleep(600)",
         "--config", str(config)], start_new_session=True)
    try:
        held = held_node()
        assert held is not None and held.root == cluster.root and held.processes == (left_running.pid,)
        assert clear_node(held) == []
        assert left_running.wait(timeout=30) == -9
        _gone()
    finally:
        if alive(left_running.pid):
            left_running.kill()


def test_a_containers_mount_names_its_node_and_is_unmounted(free_node_namespace, tmp_path):
    """No owner file and no process: the directory comes from a pod volume's mount kubelet left."""
    cluster = _left_network(tmp_path / "node")
    OWNER_FILE.unlink()
    volume = cluster.root / "kubelet" / "root" / "pods" / "uid" / "volumes" / "token"
    volume.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(volume)], check=True)
    try:
        held = held_node()
        assert held is not None and held.root == cluster.root
        assert clear_node(held) == []
        _gone()
        assert str(volume) not in Path("/proc/self/mountinfo").read_text()
    finally:
        subprocess.run(["umount", str(volume)], capture_output=True)


def test_up_refuses_a_namespace_another_running_node_holds(free_node_namespace, tmp_path):
    other = _left_network(tmp_path / "other")
    left_running = subprocess.Popen(["nsenter", f"--net=/run/netns/{NETNS}", "--", "sleep", "600"],
                                    start_new_session=True)
    try:
        with pytest.raises(StackError, match=f"another node \\({other.root}\\) runs in network namespace {NETNS}"):
            Cluster(tmp_path / "node").up()
        assert held_node() == HeldNode(other.root, (left_running.pid,))
    finally:
        assert clear_node(HeldNode(other.root, (left_running.pid,))) == []
        left_running.wait(timeout=30)
