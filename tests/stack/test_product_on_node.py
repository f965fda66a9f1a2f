"""The product on the real single-node cluster (stack/cluster.py): the project's image and the
PostgreSQL and Kafka stand-in images (the official images' start-up contract, stack/images/) built
with buildah and imported into the node; the whole stack installed with one `helm install` of the
umbrella chart helm/recsys-stack (assembled offline by `python -m stack chart`: the application chart
and helm/recsys-deps, kube-prometheus-stack off; helm/recsys-stack/ci/node-values.yaml, plus
recsys.tls.enabled and recsys.tls.mutual: mutual TLS on every hop with the chart-made certificate, and
the chart-made write token); every serving pod of the stable track Ready (the canary track's wait
for a version, by design); `helm test` passes; Recommend answers through the gateway's Service with
the version the artifacts volume holds; user events sent to the in-cluster Kafka reach PostgreSQL
through the stream processor pod; the HTTP API (the container beside the gateway) answers over HTTPS
through the same Service, refuses an event without the token and shows one posted with it in the
user's history; a RecommenderModel trains in a Job on the node and its version is served; a second
generation goes through a canary judged by online metrics (events attributed to each version,
counted by the stream pod in PostgreSQL) and is promoted; `helm uninstall` leaves none of the
release's objects behind.

The artifacts come from a brief training run here (the `publish` fixture), copied into the node
directory the chart mounts (recsys.artifacts.hostPath)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from node_pods import RESTRICTED, TEST_POD, apply, pod_spec, run_pod
from servers import eventually

from stack.cluster import Cluster, install_packages
from stack.helm import helm_binary, offline_stack_chart
from stack.image import build as build_image
from stack.image import build_local_deps
from stack.tilt import tilt_binary

pytestmark = pytest.mark.integration  # a whole Kubernetes node and the product's images on it

REPO = Path(__file__).resolve().parents[2]
NAMESPACE = "recsys"
RELEASE = "shop"
SERVING = ("gateway", "stream", "operator", "retrieval-stable", "scoring-stable", "embedding-stable")


@dataclass
class ProductNode(Cluster):
    """The node, and what the tests put on it: the artifacts directory the chart mounts, the helm
    binary, the project image's reference."""

    artifacts: Path = Path()
    helm: str = "helm"
    image: str = ""


@pytest.fixture(scope="module")
def node(free_node_namespace, tmp_path_factory, publish):
    root = tmp_path_factory.mktemp("product-node")
    artifacts = root / "artifacts"
    for model, trained in (("amazon-lightgcn", "lightgcn"), ("amazon-ncf", "neumf")):
        shutil.copytree(publish(trained, f"{model}-v1"), artifacts / model / "v1")
        (artifacts / model / "stable").symlink_to("v1")
    subprocess.run(["chown", "-R", "10001:10001", str(artifacts)], check=True)
    install_packages()
    cluster = ProductNode(root / "node", artifacts=artifacts, helm=str(helm_binary()))
    try:
        image = build_image("all")  # before the node: a build failure leaves nothing running
        deps = build_local_deps()
        cluster.up()
        for archive in (image.archive, *(built.archive for built in deps.values())):
            cluster.import_archive(archive)
        cluster.image = image.reference
        yield cluster
    finally:
        cluster.down()


def _helm(node: ProductNode, *args: str, timeout: float = 300) -> str:
    result = subprocess.run([node.helm, "--kubeconfig", str(node.kubeconfig), *args],
                            capture_output=True, text=True, timeout=timeout, check=False)
    assert result.returncode == 0, f"helm {' '.join(args)}:\n{result.stdout}{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def installed(node):
    repository, tag = node.image.rsplit(":", 1)
    chart = offline_stack_chart(node.root / "charts")
    notes = _helm(node, "install", RELEASE, str(chart), "-n", NAMESPACE, "--create-namespace",
                  "-f", str(REPO / "helm" / "recsys-stack" / "ci" / "node-values.yaml"),
                  "--set", f"recsys.image.repository={repository}", "--set", f"recsys.image.tag={tag}",
                  "--set", f"recsys.artifacts.hostPath={node.artifacts}",
                  # secure by the chart's single switch: mutual TLS on every hop, tokens for writes
                  "--set", "recsys.tls.enabled=true", "--set", "recsys.tls.mutual=true")
    for workload in ("statefulset/recsys-postgresql", "statefulset/recsys-kafka",
                     *(f"deployment/{RELEASE}-recsys-{c}" for c in SERVING)):
        node.kubectl("rollout", "status", "-n", NAMESPACE, workload, "--timeout=300s", timeout=330)
    return notes


def _readiness(node: Cluster, namespace: str = NAMESPACE) -> dict[tuple[str, str], bool]:
    """(component or name, track) -> every container ready, for each pod in the namespace."""
    readiness = {}
    for pod in json.loads(node.kubectl("get", "pods", "-n", namespace, "-o", "json").stdout)["items"]:
        labels = pod["metadata"]["labels"]
        key = (labels.get("app.kubernetes.io/component", labels.get("app.kubernetes.io/name", "")),
               labels.get("recsys.dev/track", ""))
        readiness[key] = all(c["ready"] for c in pod["status"].get("containerStatuses", []))
    return readiness


def test_every_stable_pod_is_ready_and_the_canary_track_waits(node, installed):
    assert "helm test shop -n recsys" in installed  # NOTES.txt
    ready = _readiness(node)
    for component in ("gateway", "stream", "operator", "recsys-postgresql", "recsys-kafka"):
        assert ready[(component, "")] is True, ready
    for backend in ("retrieval", "scoring", "embedding"):
        assert ready[(backend, "stable")] is True, ready
        assert ready[(backend, "canary")] is False, ready  # no canary version yet: kept out of its Service
    # the stream processor's init container migrated the schema and created the topics
    setup = node.kubectl("logs", "-n", NAMESPACE, f"deploy/{RELEASE}-recsys-stream", "-c", "setup").stdout
    assert "schema at revision" in setup and "recsys.user-events: created" in setup


def test_helm_test_passes(node, installed):
    assert "Phase:          Succeeded" in _helm(node, "test", RELEASE, "-n", NAMESPACE)


# A client pod with the release's certificate (the chart-made Secret) and its write token.
TLS_DIR = "/etc/recsys/tls"
CLIENT = {"volumes": [{"name": "tls", "secret": {"secretName": f"{RELEASE}-recsys-tls"}}],
          "volumeMounts": [{"name": "tls", "mountPath": TLS_DIR, "readOnly": True}],
          "env": [{"name": "RECSYS_AUTH_TOKENS",
                   "valueFrom": {"secretKeyRef": {"name": f"{RELEASE}-recsys-auth", "key": "tokens"}}}]}

RECOMMEND = """
import grpc
from recsys.v1 import recommendation_service_pb2 as pb, recommendation_service_pb2_grpc as rpc
tls = lambda name: open("/etc/recsys/tls/" + name, "rb").read()
channel = grpc.secure_channel("{address}", grpc.ssl_channel_credentials(tls("ca.crt"), tls("tls.key"), tls("tls.crt")))
reply = rpc.RecommendationServiceStub(channel).Recommend(pb.RecommendRequest(user_id="U0000042", k=5), timeout=30)
print(len(reply.items), {{item.model_version for item in reply.items}}.pop())
"""


def test_recommend_answers_through_the_gateway_service(node, installed):
    address = f"{RELEASE}-recsys-gateway.{NAMESPACE}.svc:50051"  # by name: cluster DNS, then kube-proxy
    log = run_pod(node, "recommend", f"python -c '{RECOMMEND.format(address=address)}'", node.image,
                  namespace=NAMESPACE, timeout_s=180, securityContext=RESTRICTED, **CLIENT)
    count, version = log.split()
    assert count == "5"
    manifest = json.loads((node.artifacts / "amazon-lightgcn" / "v1" / "manifest.json").read_text())
    assert version == manifest["version"]


def _stored_interactions(node: Cluster) -> int:
    out = node.kubectl("exec", "-n", NAMESPACE, "pod/recsys-postgresql-0", "--", "psql", "-h", "/tmp", "-U", "recsys",
                       "-d", "recsys", "-tAc", "select count(*) from interactions", check=False).stdout
    return int(out.strip()) if out.strip().isdigit() else -1


# A database client as the chart makes one: the URL from recsys-deps' Secret (sslmode=verify-full in
# it) and only ca.crt of PostgreSQL's chart-made certificate Secret.
DATABASE_CLIENT = {
    "env": [{"name": "RECSYS_DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": "recsys-database", "key": "url"}}},
            {"name": "PGSSLROOTCERT", "value": "/etc/recsys/database-ca/ca.crt"}],
    "volumes": [{"name": "database-ca", "secret": {"secretName": "recsys-postgresql-tls",
                                                   "items": [{"key": "ca.crt", "path": "ca.crt"}]}}],
    "volumeMounts": [{"name": "database-ca", "mountPath": "/etc/recsys/database-ca", "readOnly": True}]}

CONNECT = """
import os, psycopg
url = os.environ["RECSYS_DATABASE_URL"].replace("postgresql+psycopg", "postgresql")
with psycopg.connect(url) as verified:
    print("verified", verified.info.pgconn.ssl_in_use, verified.execute("show ssl").fetchone()[0])
for mode in ("disable", "verify-full"):
    target = url.split("?")[0] + "?sslmode=" + mode
    try:
        psycopg.connect(target, **({{"sslrootcert": "/nonexistent"}} if mode == "verify-full" else {{}})).close()
        print(mode, "connected")
    except psycopg.OperationalError as error:
        print(mode, "refused:", str(error).replace(chr(10), " "))
"""


def test_postgresql_takes_only_tls_connections_verified_against_its_ca(node, installed):
    log = run_pod(node, "database-tls", f"python -c '{CONNECT.format()}'", node.image, namespace=NAMESPACE,
                  timeout_s=180, securityContext=RESTRICTED, **DATABASE_CLIENT)
    lines = log.strip().splitlines()
    assert "verified True on" in lines, log
    plain = next(line for line in lines if line.startswith("disable "))
    assert "refused" in plain and "no encryption" in plain, log  # pg_hba.conf has only hostssl entries
    unverified = next(line for line in lines if line.startswith("verify-full "))
    assert "refused" in unverified and "root certificate file" in unverified, log


# A Kafka client as the chart makes one (recsys-stack turns on recsys-deps' Kafka TLS with client
# certificates): only ca.crt of the broker's chart-made Secret, and the chart-made client certificate.
KAFKA_CLIENT = {
    "env": [{"name": "RECSYS_KAFKA_TLS_CA", "value": "/etc/recsys/kafka-ca/ca.crt"},
            {"name": "RECSYS_KAFKA_TLS_CERT", "value": "/etc/recsys/kafka-client/tls.crt"},
            {"name": "RECSYS_KAFKA_TLS_KEY", "value": "/etc/recsys/kafka-client/tls.key"}],
    "volumes": [{"name": "kafka-ca", "secret": {"secretName": "recsys-kafka-tls",
                                                "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {"name": "kafka-client", "secret": {"secretName": "recsys-kafka-client-tls",
                                                    "items": [{"key": "tls.crt", "path": "tls.crt"},
                                                              {"key": "tls.key", "path": "tls.key"}]}}],
    "volumeMounts": [{"name": "kafka-ca", "mountPath": "/etc/recsys/kafka-ca", "readOnly": True},
                     {"name": "kafka-client", "mountPath": "/etc/recsys/kafka-client", "readOnly": True}]}

KAFKA_CLIENTS = """
import os
from confluent_kafka.admin import AdminClient
from events.kafka_tls import KafkaTls
verified = KafkaTls.from_env(os.environ).client_config()
without_certificate = {{k: v for k, v in verified.items() if k not in ("ssl.certificate.location", "ssl.key.location")}}
for name, config in (("verified", verified), ("plain", {{}}), ("no-certificate", without_certificate)):
    client = AdminClient({{"bootstrap.servers": "recsys-kafka:9092", "log_level": 0, **config}})
    try:
        print(name, sorted(t for t in client.list_topics(timeout=15).topics if t.startswith("recsys.")))
    except Exception as error:
        print(name, "refused", type(error).__name__)
"""


def test_kafka_takes_only_tls_clients_holding_a_certificate_from_its_ca(node, installed):
    log = run_pod(node, "kafka-tls", f"python -c '{KAFKA_CLIENTS.format()}'", node.image, namespace=NAMESPACE,
                  timeout_s=180, securityContext=RESTRICTED, **KAFKA_CLIENT)
    lines = dict(line.split(" ", 1) for line in log.strip().splitlines() if line.split(" ")[0] in
                 ("verified", "plain", "no-certificate"))
    # the stream pod's init container made the three topics over the same TLS with its certificate
    assert lines["verified"] == "['recsys.online-metrics', 'recsys.user-events', 'recsys.user-events.dlq']", log
    assert lines["plain"].startswith("refused") and lines["no-certificate"].startswith("refused"), log


def test_events_reach_postgresql_through_kafka_and_the_stream_pod(node, installed):
    # the catalogue first: events naming products the store does not know are dead-lettered
    run_pod(node, "load", "recsys data load --synthetic-users 1500 --synthetic-items 800", node.image,
            namespace=NAMESPACE, timeout_s=300, securityContext=RESTRICTED, **DATABASE_CLIENT)
    before = _stored_interactions(node)
    assert before > 0
    run_pod(node, "produce", "recsys events produce --bootstrap recsys-kafka:9092 --users 1500 --items 800 "
                             "--count 200 --seed 3", node.image, namespace=NAMESPACE, timeout_s=180,
            securityContext=RESTRICTED, **KAFKA_CLIENT)
    eventually(lambda: _stored_interactions(node) == before + 200, 180,
               f"the 200 events stored by the stream processor on top of {before}")


HTTP_ROUND_TRIP = """
import json, os, ssl, time, urllib.error, urllib.request
base = "{base}"
context = ssl.create_default_context(cafile="/etc/recsys/tls/ca.crt")
token = os.environ["RECSYS_AUTH_TOKENS"].split(",")[0]
def call(method, path, body=None, authorization=None):
    data = json.dumps(body).encode() if body is not None else None
    headers = {{"Content-Type": "application/json"}}
    if authorization:
        headers["Authorization"] = authorization
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30, context=context) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
status, reply = call("POST", "/recommendations", {{"userId": "U0000042", "k": 5}})
item = reply["items"][0]["itemId"]
event = {{"userId": "U0000042", "itemId": item, "type": "purchase"}}
refused = call("POST", "/events", event)[0]
status, accepted = call("POST", "/events", event, "Bearer " + token)
deadline = time.time() + 120
while time.time() < deadline:
    history = call("GET", "/users/U0000042/history?limit=5")[1]["interactions"]
    if history and history[0]["itemId"] == item:
        break
    time.sleep(1)
print(len(reply["items"]), refused, status, history[0]["itemId"] == item)
"""


def test_the_http_api_answers_and_takes_events_through_the_gateway_service(node, installed):
    base = f"https://{RELEASE}-recsys-gateway.{NAMESPACE}.svc:8080"
    log = run_pod(node, "http", f"python -c '{HTTP_ROUND_TRIP.format(base=base)}'", node.image,
                  namespace=NAMESPACE, timeout_s=240, securityContext=RESTRICTED, **CLIENT)
    assert log.split()[-4:] == ["5", "401", "202", "True"], log  # no token: refused; with it: stored


# the CPU example: sized for a 2-core node without a GPU, promoted without a canary
MODEL = yaml.safe_load((REPO / "operator" / "examples" / "recommendermodel-cpu.yaml").read_text())


def test_a_recommendermodel_trains_in_a_job_on_the_node_and_its_version_is_served(node, installed):
    apply(node, MODEL, namespace=NAMESPACE)

    def promoted() -> dict | None:
        resource = json.loads(node.kubectl("get", "recommendermodel", "amazon-lightgcn", "-n", NAMESPACE,
                                           "-o", "json").stdout)
        status = resource.get("status") or {}
        assert status.get("phase") != "Failed", status
        return status if status.get("phase") == "Promoted" else None

    status = eventually(promoted, 900, "the RecommenderModel promoted", interval_s=2)
    version = status["productionVersion"]
    jobs = json.loads(node.kubectl("get", "jobs", "-n", NAMESPACE, "-o", "json").stdout)["items"]
    assert [job["status"].get("succeeded") for job in jobs] == [1]  # trained by the node's kubelet
    pod = jobs[0]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] and pod["containers"][0]["image"] == node.image
    assert (node.artifacts / "amazon-lightgcn" / "stable").readlink().name == version
    _wait_until_served(node, version)


_attempts = iter(range(100_000))


def _wait_until_served(node: Cluster, version: str) -> None:
    """The stable pods hot-reload the version the operator pointed the track at: Recommend says so."""
    address = f"{RELEASE}-recsys-gateway.{NAMESPACE}.svc:50051"

    def served() -> bool:
        log = run_pod(node, f"recommend-{next(_attempts)}", f"python -c '{RECOMMEND.format(address=address)}'",
                      node.image, namespace=NAMESPACE, timeout_s=180, securityContext=RESTRICTED, **CLIENT)
        return log.split()[1] == version

    eventually(served, 180, f"Recommend answering from {version}", interval_s=2)


# Online traffic for the canary: views and clicks attributed to each version, as a shop's front end
# reports them (products the catalogue holds; the stream pod counts them per version in PostgreSQL).
TRAFFIC = """
import os, sys, time
from events.codec import make_event
from events.kafka_bus import KafkaPublisher
from events.kafka_tls import KafkaTls
publisher = KafkaPublisher("recsys-kafka:9092", **KafkaTls.from_env(os.environ).client_config())
versions = sys.argv[1:]
end, n = time.time() + 600, 0
while time.time() < end:
    for version in versions:
        user = "shopper-%d" % (n % 97)
        item = "P%07d" % (1 + n % 400)
        publisher.publish("recsys.user-events", user.encode(),
                          make_event(user, item, "view", model_version=version).SerializeToString())
        publisher.publish("recsys.user-events", user.encode(),
                          make_event(user, item, "view", model_version=version).SerializeToString())
        publisher.publish("recsys.user-events", user.encode(),
                          make_event(user, item, "click", model_version=version).SerializeToString())
    publisher.flush(10)
    n += 1
    time.sleep(0.2)
"""


def _model_status(node: Cluster) -> dict:
    resource = json.loads(node.kubectl("get", "recommendermodel", "amazon-lightgcn", "-n", NAMESPACE,
                                       "-o", "json").stdout)
    return resource.get("status") or {}


def test_a_second_generation_goes_through_a_canary_judged_by_online_metrics(node, installed):
    first = _model_status(node)
    assert first.get("phase") == "Promoted", first  # the previous test's version is in production
    rollout = {"strategy": "canary", "steps": [50, 100], "analysisWindowSeconds": 20, "minImpressions": 40,
               "maxRegression": 0.1, "maxWaitSeconds": 600}
    node.kubectl("patch", "recommendermodel", "amazon-lightgcn", "-n", NAMESPACE, "--type", "merge", "-p",
                 json.dumps({"spec": {"hyperparameters": {"epochs": 3}, "rollout": rollout}}))

    def in_canary() -> dict | None:
        status = _model_status(node)
        assert status.get("phase") not in ("Failed", "RolledBack"), status
        return status if status.get("phase") == "Canary" and status.get("version") != first["productionVersion"] \
            else None

    canary = eventually(in_canary, 900, "the second generation in its canary", interval_s=2)
    assert canary["canaryWeight"] == 50 and canary["productionVersion"] == first["productionVersion"]
    split = json.loads(node.kubectl("get", "configmap", "amazon-lightgcn-traffic-split", "-n", NAMESPACE, "-o",
                                    "jsonpath={.data.routes\\.json}").stdout)
    assert sorted(route["weight"] for route in split["routes"]) == [0.5, 0.5]
    apply(node, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "traffic", "labels": {TEST_POD: "true"}},
                 "spec": pod_spec(f"python -c '{TRAFFIC}' {canary['version']} {first['productionVersion']}",
                                  node.image, securityContext=RESTRICTED, **KAFKA_CLIENT)}, namespace=NAMESPACE)
    try:
        def promoted() -> dict | None:
            status = _model_status(node)
            assert status.get("phase") != "RolledBack", status
            return status if status.get("phase") == "Promoted" else None

        status = eventually(promoted, 600, "the canary promoted on its online metrics", interval_s=2)
    finally:
        node.kubectl("delete", "pod", "traffic", "-n", NAMESPACE, "--wait=false")
    assert status["productionVersion"] == canary["version"]
    analysis = next(c for c in status["conditions"] if c["type"] == "OnlineAnalysis")
    assert analysis["status"] == "True" and "canary ctr 0.5000 vs production 0.5000" in analysis["message"], analysis
    assert (node.artifacts / "amazon-lightgcn" / "stable").readlink().name == canary["version"]
    _wait_until_served(node, canary["version"])


def test_helm_uninstall_leaves_nothing_behind(node, installed):
    """Runs after the tests of the installed release (the Tilt test below uses the emptied node)."""
    node.kubectl("delete", "pod", "-n", NAMESPACE, "-l", TEST_POD)  # the tests' own pods
    node.kubectl("delete", "recommendermodels", "--all", "-n", NAMESPACE, "--wait", timeout=180)  # its Jobs go too
    _helm(node, "uninstall", RELEASE, "-n", NAMESPACE, "--wait")

    def empty() -> bool:
        left = node.kubectl("get", "all,cm,secret,pvc,role,rolebinding,sa,kopfpeering", "-n", NAMESPACE,
                            "-o", "name", check=False).stdout.split()
        # what Kubernetes itself keeps in every namespace
        left = [name for name in left if name not in ("configmap/kube-root-ca.crt", "serviceaccount/default")]
        volumes = node.kubectl("get", "pv", "-o", "name").stdout.split()
        cluster_wide = node.kubectl("get", "clusterrole,clusterrolebinding", "-o", "name").stdout
        return not left and not volumes and f"{RELEASE}-recsys" not in cluster_wide

    eventually(empty, 120, "the namespace emptied by helm uninstall")
    # the artifacts are the installer's directory: uninstall keeps them
    assert (node.artifacts / "amazon-lightgcn" / "stable").is_symlink()


TILT_NAMESPACE = "dev"


def _tilt(node: ProductNode, settings: Path, *args: str, timeout: float) -> subprocess.CompletedProcess:
    env = {**os.environ, "KUBECONFIG": str(node.kubeconfig), "TILT_SETTINGS": str(settings),
           "TILT_DISABLE_ANALYTICS": "1", "RECSYS_CLUSTER_DIR": str(node.root),  # the node the image goes to
           "PATH": f"{Path(node.helm).parent}:{Path(sys.executable).parent}:{os.environ['PATH']}"}
    return subprocess.run([str(tilt_binary()), *args, "-f", "Tiltfile"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)


def test_tilt_ci_builds_with_buildah_and_brings_the_app_up_on_the_node(node, installed, tmp_path):
    """`tilt ci` as a developer without docker runs it against this node: the image built by buildah
    and named in the node's containerd (no registry), helm/recsys-deps and the application chart
    with the node values, every resource ready except the canary track (which waits for a version by
    design); `tilt down` takes it all away again."""
    settings = tmp_path / "tilt-settings.json"
    settings.write_text(json.dumps({
        "allow_k8s_contexts": ["recsys-node"], "namespace": TILT_NAMESPACE, "builder": "buildah",
        "python": sys.executable, "values": ["helm/recsys/ci/node-values.yaml"],
        "set": [f"artifacts.hostPath={node.artifacts}"],
        "deps_values": ["helm/recsys-deps/ci/node-values.yaml"], "monitoring": False, "dev_resources": False}))
    node.kubectl("create", "namespace", TILT_NAMESPACE)
    try:
        with socket.socket() as probe:  # tilt's own web server: a free loopback port
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        run = _tilt(node, settings, "ci", "--timeout", "12m", "--port", str(port), timeout=900)
        assert run.returncode == 0, (run.stdout + run.stderr)[-6000:]
        pods = json.loads(node.kubectl("get", "pods", "-n", TILT_NAMESPACE, "-o", "json").stdout)["items"]
        images = {pod["metadata"]["labels"].get("app.kubernetes.io/component", pod["metadata"]["name"]):
                  pod["spec"]["containers"][0]["image"] for pod in pods}
        assert images["gateway"].startswith("recsys:tilt-"), images  # the reference Tilt built and injected
        ready = _readiness(node, TILT_NAMESPACE)
        for component in ("gateway", "stream", "operator", "recsys-postgresql", "recsys-kafka"):
            assert ready[(component, "")] is True, ready
    finally:
        down = _tilt(node, settings, "down", timeout=300)
    assert down.returncode == 0, (down.stdout + down.stderr)[-3000:]
    eventually(lambda: not node.kubectl("get", "pods", "-n", TILT_NAMESPACE, "-o", "name").stdout.split(), 180,
               "the pods removed by tilt down")
