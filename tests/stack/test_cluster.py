"""A real single-node Kubernetes cluster (stack/cluster.py): pods run under containerd and runc on a
real kubelet, a Job completes, a Service answers through kube-proxy and by name through the
cluster's DNS, the chart's restricted security context runs, and `down` leaves nothing behind.

Most pods use a busybox image built here from Debian's static busybox and imported into the node (no
registry is reachable); one runs the project's own image, built from the Dockerfile by `make image`'s
code (stack/image.py)."""

from __future__ import annotations

import json
import shutil
import subprocess
from importlib.metadata import version
from pathlib import Path

import pytest
from node_pods import RESTRICTED, apply, pod_spec, run_pod
from servers import eventually

from stack.cluster import HOST_PATHS, Cluster, cgroups, install_packages
from stack.image import build as build_image
from stack.process import apt_install

pytestmark = pytest.mark.integration  # a whole Kubernetes node: containerd, kubelet, control plane

IMAGE = "recsys.local/busybox:smoke"
APPLETS = ("sh", "cat", "echo", "sleep", "id", "mkdir", "touch", "hostname", "httpd", "nc", "nslookup", "printf",
           "awk", "tail", "grep", "ls")


def _busybox_rootfs(root: Path) -> Path:
    if not Path("/bin/busybox").exists():
        apt_install("busybox-static")
    rootfs = root / "busybox"
    (rootfs / "bin").mkdir(parents=True)
    (rootfs / "tmp").mkdir(mode=0o1777)
    (rootfs / "etc").mkdir()
    shutil.copy2("/bin/busybox", rootfs / "bin" / "busybox")
    for applet in APPLETS:
        (rootfs / "bin" / applet).symlink_to("busybox")
    (rootfs / "etc" / "passwd").write_text("root:x:0:0:root:/:/bin/sh\nrecsys:x:10001:10001::/:/bin/sh\n")
    return rootfs


@pytest.fixture(scope="module")
def cluster(free_node_namespace, tmp_path_factory):
    root = tmp_path_factory.mktemp("cluster")
    node = Cluster(root / "node")
    install_packages()  # iptables-save included: the host's rules are read before the node exists
    node.host_rules_before = _host_rules()
    node.host_paths_before = {path for path in HOST_PATHS if Path(path).exists()}
    try:
        node.up()
        node.import_image(_busybox_rootfs(root), IMAGE, cmd=["/bin/sh"])
        yield node
    finally:
        node.down()


def _host_rules() -> str:
    """The host's own iptables rules (the cluster's live in its namespace)."""
    return "\n".join(line for table in ("filter", "nat") for line in subprocess.run(
        ["iptables-save", "-t", table], capture_output=True, text=True, check=True).stdout.splitlines()
        if not line.startswith(("#", ":")))


def _pod_spec(command: str, volumes: list[dict] | None = None, image: str = IMAGE, **container: object) -> dict:
    return pod_spec(command, image, volumes, **container)


def _run_pod(cluster: Cluster, name: str, command: str, timeout_s: float = 120, image: str = IMAGE,
             **spec: object) -> str:
    return run_pod(cluster, name, command, image, timeout_s, **spec)


def test_the_node_is_ready_with_the_pinned_versions(cluster):
    node = json.loads(cluster.kubectl("get", "node", "-o", "json").stdout)["items"][0]
    assert node["status"]["nodeInfo"]["kubeletVersion"] == "v1.34.3"
    assert node["status"]["nodeInfo"]["containerRuntimeVersion"].startswith("containerd://")
    addresses = {a["type"]: a["address"] for a in node["status"]["addresses"]}
    assert addresses["InternalIP"] == "10.250.0.2"


def test_a_job_completes(cluster):
    apply(cluster, {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "hello"},
                     "spec": {"backoffLimit": 0, "template": {"spec": _pod_spec("echo hello from $(hostname)")}}})
    cluster.kubectl("wait", "--for=condition=complete", "job/hello", "--timeout=120s", timeout=150)
    assert cluster.kubectl("logs", "job/hello").stdout.startswith("hello from hello-")


def test_a_service_answers_through_kube_proxy_and_by_name(cluster):
    apply(cluster,
           {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{
                         "name": "web", "image": IMAGE, "imagePullPolicy": "Never",
                         "command": ["sh", "-c", "mkdir -p /tmp/www && hostname > /tmp/www/index.html && "
                                                 "exec httpd -f -p 8080 -h /tmp/www"],
                         "ports": [{"containerPort": 8080}],
                         "readinessProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 1}}]}}}},
           {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}})
    cluster.kubectl("rollout", "status", "deployment/web", "--timeout=120s", timeout=150)
    ip = cluster.kubectl("get", "service", "web", "-o", "jsonpath={.spec.clusterIP}").stdout
    get = 'printf "GET / HTTP/1.0\\r\\n\\r\\n" | nc -w 5 {} 80 | tail -1'
    # by address, through kube-proxy's rules: both replicas answer over a few connections. Ready
    # pods reach the rules a moment after `rollout status` returns (kube-proxy syncs the endpoint
    # slice on its own schedule), so the connections are spread over a few seconds
    def ready_endpoints() -> bool:
        slices = json.loads(cluster.kubectl("get", "endpointslice", "-l", "kubernetes.io/service-name=web",
                                            "-o", "json").stdout)["items"]
        endpoints = [e for s in slices for e in s.get("endpoints") or []]
        return sum(bool((e.get("conditions") or {}).get("ready")) for e in endpoints) == 2

    eventually(ready_endpoints, 120, "both web pods ready in the Service's endpoint slices")
    answers = _run_pod(cluster, "by-address", f"for i in $(seq 40); do {get.format(ip)}; sleep 0.25; done").split()
    assert len(answers) == 40 and all(a.startswith("web-") for a in answers) and len(set(answers)) == 2
    # by name: the pod's resolver points at the cluster DNS (CoreDNS on the node)
    by_name = _run_pod(cluster, "by-name", "grep -q 'nameserver 10.252.0.10' /etc/resolv.conf && "
                                           "nslookup web.default.svc.cluster.local | "
                                           "awk '/^Address: / {a=$2} END {print a}'")
    assert by_name.strip() == ip


def test_the_charts_restricted_security_context_runs(cluster):
    log = _run_pod(cluster, "restricted", "id -u; touch /cannot 2>/dev/null && echo writable || echo read-only; "
                                          "touch /scratch/ok && echo scratch-writable",
                   securityContext=RESTRICTED, volumeMounts=[{"name": "scratch", "mountPath": "/scratch"}],
                   volumes=[{"name": "scratch", "emptyDir": {}}])
    assert log.split() == ["10001", "read-only", "scratch-writable"]


def test_logs_and_exec_reach_the_container(cluster):
    apply(cluster, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "shell"},
                     "spec": {**_pod_spec("echo started; sleep 3600"), "terminationGracePeriodSeconds": 1}})
    cluster.kubectl("wait", "--for=condition=Ready", "pod/shell", "--timeout=120s", timeout=150)
    assert cluster.kubectl("exec", "shell", "--", "cat", "/etc/hostname").stdout.strip() == "shell"
    assert cluster.kubectl("logs", "shell").stdout.strip() == "started"


@pytest.fixture(scope="module")
def project_image(cluster: Cluster) -> str:
    """The project's Dockerfile built with buildah, as `make image` builds it, loaded into the node
    (first build on a machine: about ten minutes; then seconds plus writing and importing the archive)."""
    image = build_image("all")
    cluster.import_archive(image.archive)
    return image.reference


def test_the_projects_image_runs_recsys(cluster, project_image):
    """`recsys --version`, then torch (PyPI's CUDA build, loading on a node without a GPU) and the
    serving and training entrypoints, as the chart runs them: non-root, read-only root file system."""
    log = _run_pod(cluster, "recsys", "recsys --version && python -c 'import torch, cli.job, services.scoring.main, "
                                      "recsys_operator.handlers; print(torch.ones(3).sum().item())'",
                   image=project_image, securityContext=RESTRICTED, timeout_s=300)
    assert log.split() == ["recsys", version("recsys-k8s"), "3.0"]


def test_down_leaves_nothing_behind(cluster):
    """Runs last: processes, containers, mounts, namespaces, links, cgroups, host rules, files."""
    cluster.down()
    assert cluster.leftovers() == []
    assert not cgroups() and _host_rules() == cluster.host_rules_before
    assert {path for path in HOST_PATHS if Path(path).exists()} == cluster.host_paths_before
    leftover_processes = subprocess.run(["pgrep", "-f", str(cluster.root)], capture_output=True, text=True).stdout
    assert leftover_processes == ""
