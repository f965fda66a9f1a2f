"""Helpers for tests on the real single-node cluster (stack/cluster.py): apply objects, run a pod
to completion and read its log, wait for a condition with a generous limit."""

from __future__ import annotations

import json
import time

from stack.cluster import Cluster

# the chart's container security context (helm/recsys/values.yaml)
RESTRICTED = {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001, "readOnlyRootFilesystem": True,
              "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
              "seccompProfile": {"type": "RuntimeDefault"}}


TEST_POD = "recsys.test/pod"  # label of the pods run_pod starts, so a test can delete them all


def apply(cluster: Cluster, *objects: dict, namespace: str = "default") -> None:
    cluster.kubectl("apply", "-n", namespace, "-f", "-",
                    stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": list(objects)}))


def pod_spec(command: str, image: str, volumes: list[dict] | None = None, **container: object) -> dict:
    return {"restartPolicy": "Never", "volumes": volumes or [], "containers": [
        {"name": "main", "image": image, "imagePullPolicy": "Never", "command": ["sh", "-c", command], **container}]}


def run_pod(cluster: Cluster, name: str, command: str, image: str, timeout_s: float = 120,
            namespace: str = "default", **spec: object) -> str:
    """Run a pod to completion; its log (the test fails with the pod's state when it does not succeed)."""
    apply(cluster, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {TEST_POD: "true"}},
                    "spec": pod_spec(command, image, **spec)}, namespace=namespace)
    deadline = time.monotonic() + timeout_s
    phase = ""
    while time.monotonic() < deadline and phase not in ("Succeeded", "Failed"):
        phase = cluster.kubectl("get", "pod", name, "-n", namespace, "-o", "jsonpath={.status.phase}").stdout
        time.sleep(0.5)
    log = cluster.kubectl("logs", name, "-n", namespace, check=False).stdout
    state = cluster.kubectl("get", "pod", name, "-n", namespace, "-o", "json").stdout
    assert phase == "Succeeded", f"pod {name} is {phase or 'not started'}:\n{log}\n{state[-3000:]}"
    return log


