"""Replicas on the real node: the whole stack (helm/recsys-stack with its node values) on the
single-node cluster of stack/cluster.py, measured with 1 and then 2 replicas of each serving service
(gateway, retrieval, scoring, embedding) in the same run; 1 is the reference.

For each replica count, from a client inside the node's network (all on this machine's 2 cores):
- load: `recsys loadtest`'s generator, Recommend at concurrency 16 for --seconds against the
  gateway's Service (ClusterIP, kube-proxy), and the calls each serving pod handled during it
  (its recsys_rpc_total before and after, read from the pod's metrics port);
- freshness on every replica: a click posted to the HTTP API (POST /events, through the gateway to
  the in-cluster Kafka); each embedding pod is asked GetUserEmbedding every 5 ms until it has the
  item; the probe's time is the slowest replica's.
Then, with 2 replicas, a pod deleted under load, once an embedding pod and once a gateway pod (each
run on its own, so failures are attributed): the same load for 70 s, the pod deleted at 10 s (a
normal `kubectl delete pod`: SIGTERM, drain until the clients have left, stop), failed calls counted
by status code, and how long the pod took to go; while a gateway pod goes, the HTTP API (in the
gateway's pod) also gets POST /recommendations at concurrency 4.

Catalogue: synthetic 20k users x 10k items (seed 0), LightGCN 5 epochs and NeuMF 2, cached.

    python -m benchmarks.cluster_replicas          # root; JSON: benchmarks/results/cpu-cluster-replicas.json
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

from benchmarks.common import REPO, markdown_table, write_json
from benchmarks.replica_freshness import ITEMS, USERS, lightgcn_artifact

NAMESPACE = "recsys"
RELEASE = "shop"
SERVING = ("gateway", "retrieval", "scoring", "embedding")
CONCURRENCY = 16
DELETE_AT_S = 10
HTTP_CONCURRENCY = 4
DISRUPTION_S = 70  # a deleted pod drains for at most ~39 s under load, then 5 s grace


def neumf_artifact(cache: Path) -> Path:
    """NeuMF on the same catalogue, trained once and cached."""
    path = cache / "neumf-20k-e2"
    if (path / "manifest.json").exists():
        return path
    from training.artifacts import save_artifact
    from training.config import TrainConfig
    from training.data.sources import DataSpec, open_dataset
    from training.trainer import train

    data = open_dataset(DataSpec(path="synthetic", synthetic_users=USERS, synthetic_items=ITEMS, with_valid=False))
    result = train(data, TrainConfig(model="neumf", epochs=2, batch_size=8192, protocol="sampled"),
                   progress=False, echo=lambda s: print("  " + s, flush=True))
    save_artifact(path, result.model, data, {"config": result.config.to_dict()}, result.test_metrics)
    return path


# ---------------------------------------------------------------------------------------- host side


class Stack:
    """The node with the stack installed; ``scale`` changes the serving replicas."""

    def __init__(self, root: Path, cache: Path) -> None:
        from stack.cluster import Cluster, install_packages
        from stack.helm import helm_binary, offline_stack_chart
        from stack.image import build, build_local_deps

        self.root = root
        artifacts = root / "artifacts"
        for model, trained in (("amazon-lightgcn", lightgcn_artifact(cache)), ("amazon-ncf", neumf_artifact(cache))):
            shutil.copytree(trained, artifacts / model / "v1")
            (artifacts / model / "stable").symlink_to("v1")
        subprocess.run(["chown", "-R", "10001:10001", str(artifacts)], check=True)
        install_packages()
        image = build("all")
        deps = build_local_deps()
        self.cluster = Cluster(root / "node")
        self.cluster.up()
        for archive in (image.archive, *(built.archive for built in deps.values())):
            self.cluster.import_archive(archive)
        self.helm = str(helm_binary())
        self.chart = offline_stack_chart(root / "charts")
        repository, tag = image.reference.rsplit(":", 1)
        self._helm("install", RELEASE, str(self.chart), "-n", NAMESPACE, "--create-namespace",
                   "-f", str(REPO / "helm" / "recsys-stack" / "ci" / "node-values.yaml"),
                   "--set", f"recsys.image.repository={repository}", "--set", f"recsys.image.tag={tag}",
                   "--set", f"recsys.artifacts.hostPath={artifacts}")
        self.wait_rolled_out()

    def _helm(self, *args: str) -> None:
        subprocess.run([self.helm, "--kubeconfig", str(self.cluster.kubeconfig), *args], check=True,
                       capture_output=True, text=True, timeout=600)

    def wait_rolled_out(self) -> None:
        workloads = ["statefulset/recsys-postgresql", "statefulset/recsys-kafka",
                     f"deployment/{RELEASE}-recsys-gateway", f"deployment/{RELEASE}-recsys-stream",
                     *(f"deployment/{RELEASE}-recsys-{c}-stable" for c in SERVING[1:])]
        for workload in workloads:
            self.cluster.kubectl("rollout", "status", "-n", NAMESPACE, workload, "--timeout=600s", timeout=630)

    def scale(self, replicas: int) -> None:
        sets = [f"recsys.services.{name}.replicas={replicas}" for name in SERVING]
        self._helm("upgrade", RELEASE, str(self.chart), "-n", NAMESPACE, "--reuse-values",
                   *(arg for setting in sets for arg in ("--set", setting)))
        self.wait_rolled_out()

    def probe(self, *args: str) -> dict:
        """This module's probe side, run inside the node's network namespace (pod and Service
        addresses live there)."""
        from stack.cluster import NETNS

        out = self.root / f"probe-{uuid.uuid4().hex[:6]}.json"
        subprocess.run(["nsenter", f"--net=/run/netns/{NETNS}", "--", sys.executable, "-m",
                        "benchmarks.cluster_replicas", "probe", "--kubeconfig", str(self.cluster.kubeconfig),
                        "--out", str(out), *args],
                       check=True, cwd=REPO, timeout=900)
        return json.loads(out.read_text())

    def down(self) -> None:
        self.cluster.down()


# ---------------------------------------------------------------------------------------- node side


class Probe:
    """Addresses, the write token and per-pod counters, from the API server."""

    def __init__(self, kubeconfig: str) -> None:
        from stack.kube import kube_binary

        self.kubectl = [str(kube_binary("kubectl")), "--kubeconfig", kubeconfig, "-n", NAMESPACE]
        gateway = self._get("service", f"{RELEASE}-recsys-gateway")
        self.gateway = gateway["spec"]["clusterIP"]
        secret = self._get("secret", f"{RELEASE}-recsys-auth")
        self.token = base64.b64decode(secret["data"]["tokens"]).decode().split(",")[0]

    def _get(self, *what: str) -> dict:
        return json.loads(subprocess.run([*self.kubectl, "get", *what, "-o", "json"], check=True,
                                         capture_output=True, text=True).stdout)

    def pods(self) -> list[dict]:
        """Ready serving pods of the stable track (and the gateway): name, component, IP, metrics port."""
        found = []
        for pod in self._get("pods")["items"]:
            labels = pod["metadata"]["labels"]
            component = labels.get("app.kubernetes.io/component")
            if component not in SERVING or labels.get("recsys.dev/track", "stable") != "stable":
                continue
            if pod["metadata"].get("deletionTimestamp") or not all(
                    c["ready"] for c in pod["status"].get("containerStatuses", [])):
                continue
            container = pod["spec"]["containers"][0]
            metrics = next(p["containerPort"] for p in container["ports"] if p["name"] == "metrics")
            grpc_port = next(p["containerPort"] for p in container["ports"] if p["name"] == "grpc")
            found.append({"name": pod["metadata"]["name"], "component": component, "ip": pod["status"]["podIP"],
                          "metrics": metrics, "grpc": grpc_port})
        return found

    def delete_pod(self, name: str) -> None:
        subprocess.run([*self.kubectl, "delete", "pod", name, "--wait=false"], check=True, capture_output=True)

    def gone(self, name: str) -> bool:
        return subprocess.run([*self.kubectl, "get", "pod", name], capture_output=True).returncode != 0


def handled_calls(pod: dict) -> float:
    """The pod's recsys_rpc_total, all methods and codes."""
    with urllib.request.urlopen(f"http://{pod['ip']}:{pod['metrics']}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith("recsys_rpc_total{"))


def run_load(probe: Probe, seconds: float, http_concurrency: int = 0) -> tuple[dict, dict | None]:
    """Recommend over gRPC at CONCURRENCY, and with ``http_concurrency`` also POST /recommendations
    to the HTTP API (port 8080 of the gateway's Service) at the same time."""
    from cli.loadtest import run_load as generate
    from core.security import Security

    security = Security(tokens=(probe.token,))

    async def loads() -> list:
        runs = [generate(f"{probe.gateway}:50051", duration_s=seconds, concurrency=CONCURRENCY, users=USERS,
                         security=security, connections=4)]
        if http_concurrency:
            runs.append(generate(f"http://{probe.gateway}:8080", duration_s=seconds, concurrency=http_concurrency,
                                 users=USERS, security=security, http=True))
        return await asyncio.gather(*runs)

    results = [{"throughput_rps": r.throughput_rps, "p50_ms": r.p50_ms, "p99_ms": r.p99_ms, "requests": r.requests,
                "ok": r.ok, "errors": r.errors} for r in asyncio.run(loads())]
    return results[0], (results[1] if http_concurrency else None)


def freshness(probe: Probe, probes: int, timeout_s: float = 10.0) -> dict:
    import grpc
    import numpy as np

    from recsys.v1 import embedding_service_pb2 as pb
    from recsys.v1 import embedding_service_pb2_grpc as pb_grpc

    embedding = [pod for pod in probe.pods() if pod["component"] == "embedding"]
    channels = [grpc.insecure_channel(f"{pod['ip']}:{pod['grpc']}") for pod in embedding]
    stubs = [pb_grpc.EmbeddingServiceStub(channel) for channel in channels]
    item_ids = [f"P{i:07d}" for i in range(0, ITEMS, 7)]
    slowest, first, missed = [], [], 0
    run = uuid.uuid4().hex[:6]
    for n in range(probes):
        user, item = f"fresh-{run}-{n}", item_ids[n % len(item_ids)]
        body = json.dumps({"userId": user, "itemId": item, "type": "click"}).encode()
        request = urllib.request.Request(f"http://{probe.gateway}:8080/events", data=body, method="POST",
                                         headers={"Content-Type": "application/json",
                                                  "Authorization": f"Bearer {probe.token}"})
        sent = time.perf_counter()
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 202, answer.status
        seen_at: dict[int, float] = {}
        while len(seen_at) < len(stubs) and time.perf_counter() - sent < timeout_s:
            for index, stub in enumerate(stubs):
                if index not in seen_at and item in stub.GetUserEmbedding(
                        pb.GetUserEmbeddingRequest(user_id=user), timeout=5).seen_item_ids:
                    seen_at[index] = time.perf_counter() - sent
            time.sleep(0.005)
        if len(seen_at) < len(stubs):
            missed += 1
            continue
        first.append(min(seen_at.values()) * 1000)
        slowest.append(max(seen_at.values()) * 1000)
    for channel in channels:
        channel.close()
    every = np.array(slowest)
    return {"replicas_asked": len(stubs), "probes": probes, "missed": missed,
            "first_p50_ms": float(np.percentile(first, 50)), "all_p50_ms": float(np.percentile(every, 50)),
            "all_p99_ms": float(np.percentile(every, 99)), "all_max_ms": float(every.max())}


def probe_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cluster_replicas probe")
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--probes", type=int, default=100)
    parser.add_argument("--disrupt", choices=SERVING, help="delete a pod of this service under load")
    args = parser.parse_args(argv)
    probe = Probe(args.kubeconfig)
    pods = probe.pods()
    if args.disrupt:
        deleted: dict = {}

        def delete_later() -> None:
            time.sleep(DELETE_AT_S + 2)  # the load generator's warm-up comes first
            victim = next(pod for pod in probe.pods() if pod["component"] == args.disrupt)
            probe.delete_pod(victim["name"])
            deleted_at = time.monotonic()
            deleted.update(at_s=DELETE_AT_S, pod=victim["name"])
            while not probe.gone(victim["name"]) and time.monotonic() - deleted_at < 120:
                time.sleep(0.5)
            deleted["gone_after_s"] = round(time.monotonic() - deleted_at, 1)

        deleter = threading.Thread(target=delete_later, daemon=True)
        deleter.start()
        # a gateway pod also serves the HTTP API: its clients must see no failure either
        load, http_load = run_load(probe, args.seconds, HTTP_CONCURRENCY if args.disrupt == "gateway" else 0)
        deleter.join(130)
        args.out.write_text(json.dumps({"load": load, "http_load": http_load, "deleted": deleted}))
        return
    before = {pod["name"]: handled_calls(pod) for pod in pods}
    load, _ = run_load(probe, args.seconds)
    calls = {pod["name"]: handled_calls(pod) - before[pod["name"]] for pod in pods}
    per_component = {name: sorted(round(calls[p["name"]]) for p in pods if p["component"] == name) for name in SERVING}
    args.out.write_text(json.dumps({"load": load, "calls_per_pod": per_component,
                                    "freshness": freshness(probe, args.probes)}))


# ---------------------------------------------------------------------------------------- the run


def main() -> None:
    if sys.argv[1:2] == ["probe"]:
        probe_main(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=30, help="load per measurement")
    parser.add_argument("--probes", type=int, default=100, help="freshness probes per measurement")
    parser.add_argument("--out", type=Path, default=REPO / "bench-results" / "cluster_replicas.json")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="recsys-bench-cluster-"))
    stack = None
    try:
        stack = Stack(root, REPO / "bench-results" / "replica-artifacts")
        rows = []
        for replicas in (1, 2):
            if replicas > 1:
                stack.scale(replicas)
            measured = stack.probe("--seconds", str(args.seconds), "--probes", str(args.probes))
            rows.append({"replicas": replicas, **{f"load_{k}": v for k, v in measured["load"].items()},
                         "calls_per_pod": measured["calls_per_pod"],
                         **{f"fresh_{k}": v for k, v in measured["freshness"].items()}})
            print(json.dumps(rows[-1]), flush=True)
        disruption = {}
        for component in ("embedding", "gateway"):
            stack.wait_rolled_out()  # the deleted pod's replacement is ready
            disruption[component] = stack.probe("--seconds", str(DISRUPTION_S), "--disrupt", component)
            print(json.dumps(disruption[component]), flush=True)
        print("\nthe stack on the node, 1 vs 2 replicas of each serving service (concurrency 16):")
        print(markdown_table([{k: v for k, v in row.items() if k not in ("calls_per_pod", "load_errors")}
                              for row in rows]))
        print("\ncalls per serving pod during the load:")
        for row in rows:
            print(f"  {row['replicas']} replica(s): {row['calls_per_pod']}")
        print("\na pod deleted under load (2 replicas, deleted at 10 s of 70):")
        print(markdown_table([{"deleted": component, "api": api, "pod_gone_after_s": run["deleted"].get("gone_after_s"),
                               "requests": load["requests"], "ok": load["ok"], "failed": load["errors"] or "none",
                               "p99_ms": load["p99_ms"]}
                              for component, run in disruption.items()
                              for api, load in (("gRPC", run["load"]), ("HTTP", run.get("http_load"))) if load]))
        write_json(args.out, {"catalogue": f"synthetic {USERS} users x {ITEMS} items",
                              "node": "stack/cluster.py single node on this machine's 2 cores", "rows": rows,
                              "pod_deleted_under_load": disruption})
    finally:
        if stack is not None:
            stack.down()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
