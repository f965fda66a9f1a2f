"""The application chart: lint, schema, every ci/*-values.yaml rendered and validated by a real
kube-apiserver (server-side dry run), and a real `helm install` / `helm upgrade` into it."""

from __future__ import annotations

import base64
import filecmp
import json
import re
import subprocess
import uuid
from pathlib import Path

import pytest
import yaml

from stack.helm import helm_binary
from stack.kube import KUBE_VERSION

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "helm" / "recsys"
CI_VALUES = sorted((CHART / "ci").glob("*-values.yaml"))


@pytest.fixture(scope="module")
def helm():
    return str(helm_binary())


def _run(*argv: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), input=stdin, capture_output=True, text=True)


def _namespace(kube, name: str) -> str:
    _run("kubectl", "--kubeconfig", str(kube.kubeconfig), "create", "namespace", name)
    return name


def test_chart_lints_with_every_ci_values_file(helm):
    assert CI_VALUES, "no ci/*-values.yaml"
    for values in CI_VALUES:
        result = _run(helm, "lint", str(CHART), "-f", str(values))
        assert result.returncode == 0, f"{values.name}:\n{result.stdout}{result.stderr}"


@pytest.mark.parametrize("setting, message", [
    ("image.pullPolicy=Sometimes", "value must be one of 'Always', 'IfNotPresent', 'Never'"),
    ("services.gateway.port=0", "/services/gateway/port"),
    ("tracks[0]=canary", "/tracks"),
    ("artifacts.model=Not_A_Name", "/artifacts/model"),
    ("gateway.deadlineMs=-5", "/gateway/deadlineMs"),
])
def test_bad_values_are_rejected_by_the_schema(helm, setting, message):
    result = _run(helm, "template", "r", str(CHART), "--set", setting)
    assert result.returncode != 0 and message in result.stderr, result.stderr


def test_the_charts_crds_are_the_operators(helm):
    for crd in (REPO / "operator" / "crds").glob("*.yaml"):
        assert filecmp.cmp(crd, CHART / "crds" / crd.name, shallow=False), f"helm/recsys/crds/{crd.name} is stale"


@pytest.mark.parametrize("values", CI_VALUES, ids=lambda p: p.name)
def test_every_rendered_object_passes_a_server_side_dry_run(helm, kube_apiserver, values):
    namespace = _namespace(kube_apiserver, f"dry-{uuid.uuid4().hex[:6]}")
    # `helm template` renders offline: name the API server's version (a go-installed helm defaults to 1.20)
    rendered = _run(helm, "template", "shop", str(CHART), "-f", str(values), "--namespace", namespace,
                    "--kube-version", KUBE_VERSION)
    assert rendered.returncode == 0, rendered.stderr
    objects = [o for o in yaml.safe_load_all(rendered.stdout) if o]
    assert {"Deployment", "Service", "ConfigMap"} <= {o["kind"] for o in objects}
    for obj in objects:  # restricted pod security: non-root, no privilege escalation, all capabilities dropped
        if obj["kind"] == "Deployment":
            pod = obj["spec"]["template"]["spec"]
            assert pod["securityContext"]["runAsNonRoot"] is True
            for container in pod["containers"]:
                assert container["securityContext"]["readOnlyRootFilesystem"] is True
                assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
            # only the operator talks to the Kubernetes API: no other pod gets a token to do so
            is_operator = obj["metadata"]["name"].endswith("-operator")
            assert pod.get("automountServiceAccountToken", True) is is_operator, obj["metadata"]["name"]
    applied = _run("kubectl", "--kubeconfig", str(kube_apiserver.kubeconfig), "apply", "--dry-run=server",
                   "-n", namespace, "-f", "-", stdin=rendered.stdout)
    assert applied.returncode == 0, applied.stderr
    assert applied.stdout.count("(server dry run)") == len(objects)


def test_helm_install_creates_every_object_and_upgrade_keeps_the_operators_split(helm, kube_apiserver):
    namespace = f"install-{uuid.uuid4().hex[:6]}"
    kubeconfig = ["--kubeconfig", str(kube_apiserver.kubeconfig)]
    installed = _run(helm, *kubeconfig, "install", "shop", str(CHART), "-n", namespace, "--create-namespace")
    assert installed.returncode == 0, installed.stderr
    assert "grpcurl -plaintext" in installed.stdout  # NOTES.txt
    listed = json.loads(_run("kubectl", *kubeconfig, "get",
                             "deploy,svc,hpa,pdb,cm,sa,role,rolebinding,kopfpeering,servicemonitor,prometheusrule",
                             "-n", namespace, "-o", "json").stdout)
    names = {(o["kind"], o["metadata"]["name"]) for o in listed["items"]}
    for component in ("gateway", "stream", "operator", *(f"{c}-{t}" for c in ("retrieval", "scoring", "embedding")
                                                          for t in ("stable", "canary"))):
        assert ("Deployment", f"shop-recsys-{component}") in names, component
    assert ("HorizontalPodAutoscaler", "shop-recsys-gateway") in names
    assert ("PodDisruptionBudget", "shop-recsys-retrieval-canary") in names
    assert ("KopfPeering", "shop-recsys-operator") in names
    assert ("ConfigMap", "amazon-lightgcn-traffic-split") in names
    assert {("ServiceMonitor", "shop-recsys"), ("PrometheusRule", "shop-recsys"),
            ("ConfigMap", "shop-recsys-dashboard-recsys-overview"), ("Service", "shop-recsys-stream-metrics"),
            ("Service", "shop-recsys-operator-metrics")} <= names
    crd = _run("kubectl", *kubeconfig, "get", "crd", "recommendermodels.recsys.dev")
    assert crd.returncode == 0
    # the operator rewrites the split during a canary; an upgrade must not reset it
    split = {"routes": [{"name": "v2", "weight": 1.0, "embedding": "e:1", "retrieval": "r:1", "scoring": "s:1"}]}
    patched = _run("kubectl", *kubeconfig, "-n", namespace, "create", "configmap", "amazon-lightgcn-traffic-split",
                   f"--from-literal=routes.json={json.dumps(split)}", "--dry-run=client", "-o", "yaml")
    replaced = _run("kubectl", *kubeconfig, "-n", namespace, "replace", "-f", "-", stdin=patched.stdout)
    assert replaced.returncode == 0, replaced.stderr
    upgraded = _run(helm, *kubeconfig, "upgrade", "shop", str(CHART), "-n", namespace, "--set", "gateway.maxK=50")
    assert upgraded.returncode == 0, upgraded.stderr
    data = json.loads(_run("kubectl", *kubeconfig, "-n", namespace, "get", "cm", "amazon-lightgcn-traffic-split",
                           "-o", "json").stdout)["data"]
    assert json.loads(data["routes.json"]) == split
    uninstalled = _run(helm, *kubeconfig, "uninstall", "shop", "-n", namespace)
    assert uninstalled.returncode == 0, uninstalled.stderr


def test_the_dockerfile_builds_every_entrypoint_as_non_root():
    dockerfile = (REPO / "Dockerfile").read_text()
    stages = re.findall(r"^FROM\s+\S+\s+AS\s+(\w+)", dockerfile, flags=re.M)
    assert stages == ["deps", "app", "runtime"]  # built and run on the real node: tests/stack/test_cluster.py
    assert re.search(r"^USER 10001:10001$", dockerfile, flags=re.M)
    assert 'ENTRYPOINT ["tini", "--", "recsys"]' in dockerfile and "ARG VARIANT=cpu" in dockerfile
    for copied in re.findall(r"^COPY (?!--from)(\S+) ", dockerfile, flags=re.M):
        for path in copied.split():
            path = path.replace("${EXTRA}", "all")
            assert (REPO / path).exists(), f"the Dockerfile copies {path}, which does not exist"
    # the chart runs the image as the same user
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert values["podSecurityContext"]["runAsUser"] == 10001


def _objects(helm, *values: str, sets: tuple[str, ...] = (), api_versions: tuple[str, ...] = ()) -> list[dict]:
    argv = [helm, "template", "shop", str(CHART), "--kube-version", KUBE_VERSION]
    for name in values:
        argv += ["-f", str(CHART / "ci" / name)]
    for setting in sets:
        argv += ["--set", setting]
    for version in api_versions:
        argv += ["--api-versions", version]
    rendered = _run(*argv)
    assert rendered.returncode == 0, rendered.stderr
    return [o for o in yaml.safe_load_all(rendered.stdout) if o]


def _named(objects: list[dict], kind: str, name: str) -> dict:
    return next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name)


def test_the_http_api_runs_beside_the_gateway_with_its_own_probes_and_port(helm):
    objects = _objects(helm)
    pod = _named(objects, "Deployment", "shop-recsys-gateway")["spec"]["template"]["spec"]
    http = next(c for c in pod["containers"] if c["name"] == "http")
    env = {e["name"]: e.get("value") for e in http["env"]}
    assert http["args"] == ["serve", "http"] and env["RECSYS_GATEWAY_ADDR"] == "localhost:50051"
    assert env["RECSYS_KAFKA_BOOTSTRAP"] and env["RECSYS_HTTP_PORT"] == "8080"
    assert http["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert http["livenessProbe"]["httpGet"]["path"] == "/health"
    ports = {p["name"]: p for p in _named(objects, "Service", "shop-recsys-gateway")["spec"]["ports"]}
    assert ports["http"]["port"] == 8080 and ports["http"]["appProtocol"] == "http"
    assert not [o for o in objects if o["kind"] == "Ingress"]  # off unless asked for

    minimal = _objects(helm, "minimal-values.yaml")
    pod = _named(minimal, "Deployment", "shop-recsys-gateway")["spec"]["template"]["spec"]
    assert [c["name"] for c in pod["containers"]] == ["gateway"]
    assert "http" not in {p["name"] for p in _named(minimal, "Service", "shop-recsys-gateway")["spec"]["ports"]}


def test_the_ingress_routes_to_the_http_port_with_tls(helm):
    ingress = _named(_objects(helm, "gpu-nodes-values.yaml"), "Ingress", "shop-recsys-gateway")
    assert ingress["spec"]["ingressClassName"] == "nginx"
    rule = ingress["spec"]["rules"][0]
    assert rule["host"] == "shop.example.test"
    assert rule["http"]["paths"][0]["backend"]["service"] == {"name": "shop-recsys-gateway", "port": {"name": "http"}}
    assert ingress["spec"]["tls"] == [{"hosts": ["shop.example.test"], "secretName": "shop-tls"}]


def test_network_policies_let_only_the_gateway_call_the_backends(helm):
    objects = _objects(helm, "gpu-nodes-values.yaml")
    policies = {o["metadata"]["name"]: o["spec"] for o in objects if o["kind"] == "NetworkPolicy"}
    deployments = [o for o in objects if o["kind"] == "Deployment"]
    for deployment in deployments:  # every pod of the release is selected by one policy
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert any(all(labels.get(k) == v for k, v in spec["podSelector"]["matchLabels"].items())
                   for spec in policies.values()), deployment["metadata"]["name"]
    for backend in ("retrieval", "scoring", "embedding"):
        grpc_rule, metrics_rule = policies[f"shop-recsys-{backend}"]["ingress"]
        assert grpc_rule["ports"] == [{"port": "grpc", "protocol": "TCP"}]
        assert [peer["podSelector"]["matchLabels"]["app.kubernetes.io/component"] for peer in grpc_rule["from"]] \
            == ["gateway"]
        assert metrics_rule["from"] == [{"namespaceSelector": {"matchLabels": {
            "kubernetes.io/metadata.name": "monitoring"}}}]
    gateway = policies["shop-recsys-gateway"]["ingress"][0]
    assert {p["port"] for p in gateway["ports"]} == {"grpc", "http"}
    assert gateway["from"][-1] == {"podSelector": {"matchLabels": {"app.kubernetes.io/instance": "shop"}}}  # helm test
    stream = policies["shop-recsys-stream"]["ingress"]
    assert [rule["ports"] for rule in stream] == [[{"port": "metrics", "protocol": "TCP"}]]
    gateway = _named(_objects(helm), "NetworkPolicy", "shop-recsys-gateway")
    assert "from" not in gateway["spec"]["ingress"][0]  # by default any client may call the gateway


SERVING_DEPLOYMENTS = ("gateway", *(f"{component}-{track}" for component in ("retrieval", "scoring", "embedding")
                                    for track in ("stable", "canary")))


def _env(container: dict) -> dict[str, dict]:
    return {e["name"]: e for e in container.get("env", [])}


def test_one_switch_puts_tls_and_tokens_on_every_container_probe_and_scrape(helm, tmp_path):
    objects = _objects(helm, "secure-values.yaml", api_versions=("monitoring.coreos.com/v1/ServiceMonitor",))
    secret = _named(objects, "Secret", "shop-recsys-tls")
    assert secret["type"] == "kubernetes.io/tls" and set(secret["data"]) == {"tls.crt", "tls.key", "ca.crt"}
    for name, value in secret["data"].items():
        (tmp_path / name).write_bytes(base64.b64decode(value))
    verified = _run("openssl", "verify", "-CAfile", str(tmp_path / "ca.crt"), str(tmp_path / "tls.crt"))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    names = _run("openssl", "x509", "-noout", "-ext", "subjectAltName", "-in", str(tmp_path / "tls.crt")).stdout
    # every name a client dials: the Services (short and cluster names) and localhost (the HTTP container)
    for expected in ("DNS:shop-recsys-gateway", "DNS:shop-recsys-embedding-canary", "DNS:localhost",
                     "DNS:*.default.svc", "IP Address:127.0.0.1"):
        assert expected in names, names
    tokens = base64.b64decode(_named(objects, "Secret", "shop-recsys-auth")["data"]["tokens"])
    assert len(tokens) == 40
    for deployment in SERVING_DEPLOYMENTS:
        pod = _named(objects, "Deployment", f"shop-recsys-{deployment}")["spec"]["template"]["spec"]
        assert {"name": "tls", "secret": {"secretName": "shop-recsys-tls"}} in pod["volumes"]
        for container in pod["containers"]:
            env = _env(container)
            assert env["RECSYS_TLS_DIR"]["value"] == "/etc/recsys/tls" and env["RECSYS_MTLS"]["value"] == "on"
            assert env["RECSYS_AUTH_TOKENS"]["valueFrom"]["secretKeyRef"] == {"name": "shop-recsys-auth",
                                                                            "key": "tokens"}
            assert env["RECSYS_AUTH_READS"]["value"] == "token"
            assert {"name": "tls", "mountPath": "/etc/recsys/tls", "readOnly": True} in container["volumeMounts"]
            for probe in ("readinessProbe", "livenessProbe"):  # the kubelet's gRPC probe cannot speak TLS
                assert container[probe]["httpGet"]["scheme"] == "HTTPS", (deployment, container["name"])
        if deployment != "gateway":
            assert pod["containers"][0]["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics",
                                                                          "scheme": "HTTPS"}
    for deployment in ("stream", "operator"):  # their metrics ports serve HTTPS too
        pod = _named(objects, "Deployment", f"shop-recsys-{deployment}")["spec"]["template"]["spec"]
        container = pod["containers"][0]
        assert _env(container)["RECSYS_TLS_DIR"]["value"] == "/etc/recsys/tls"
        assert "RECSYS_AUTH_TOKENS" not in _env(container)
    endpoint = _named(objects, "ServiceMonitor", "shop-recsys")["spec"]["endpoints"][0]
    assert endpoint["scheme"] == "https" and endpoint["tlsConfig"]["ca"] == {"secret": {"name": "shop-recsys-tls",
                                                                                       "key": "ca.crt"}}
    test_pod = next(o for o in objects if o["kind"] == "Pod")
    assert "grpc.secure_channel" in test_pod["spec"]["containers"][0]["command"][-1]


def test_plain_text_by_default_but_writes_need_the_chart_made_token(helm):
    objects = _objects(helm)
    assert not [o for o in objects if o["kind"] == "Secret" and o["metadata"]["name"] == "shop-recsys-tls"]
    assert _named(objects, "Secret", "shop-recsys-auth")["data"]["tokens"]
    for deployment in SERVING_DEPLOYMENTS:
        pod = _named(objects, "Deployment", f"shop-recsys-{deployment}")["spec"]["template"]["spec"]
        for container in pod["containers"]:
            env = _env(container)
            assert "RECSYS_TLS_DIR" not in env and env["RECSYS_AUTH_READS"]["value"] == "open"
            assert env["RECSYS_AUTH_TOKENS"]["valueFrom"]["secretKeyRef"]["name"] == "shop-recsys-auth"
        assert pod["containers"][0]["readinessProbe"]["grpc"]


def test_existing_secrets_are_used_and_none_is_made(helm):
    objects = _objects(helm, sets=("tls.enabled=true", "tls.existingSecret=shop-internal-tls",
                                   "auth.existingSecret=shop-tokens"))
    assert not [o for o in objects if o["kind"] == "Secret"]
    pod = _named(objects, "Deployment", "shop-recsys-gateway")["spec"]["template"]["spec"]
    assert {"name": "tls", "secret": {"secretName": "shop-internal-tls"}} in pod["volumes"]
    assert _env(pod["containers"][0])["RECSYS_AUTH_TOKENS"]["valueFrom"]["secretKeyRef"]["name"] == "shop-tokens"
    assert _env(pod["containers"][0])["RECSYS_MTLS"]["value"] == "off"
    without = _objects(helm, sets=("auth.enabled=false",))
    pod = _named(without, "Deployment", "shop-recsys-gateway")["spec"]["template"]["spec"]
    assert "RECSYS_AUTH_TOKENS" not in _env(pod["containers"][0])


def test_a_database_ca_makes_every_database_client_verify_the_server_and_mounts_only_ca_crt(helm):
    objects = _objects(helm, sets=("database.existingSecret=db-url", "database.tls.caSecret=db-tls"))
    clients = 0
    for workload in (o for o in objects if o["kind"] in ("Deployment", "Job")):
        pod = workload["spec"]["template"]["spec"]
        for container in pod.get("initContainers", []) + pod["containers"]:
            env = _env(container)
            if "RECSYS_DATABASE_URL" not in env:
                assert "PGSSLMODE" not in env, container["name"]
                continue
            clients += 1
            assert env["PGSSLMODE"]["value"] == "verify-full", container["name"]
            assert env["PGSSLROOTCERT"]["value"] == "/etc/recsys/database-ca/ca.crt"
            assert {"name": "database-ca", "mountPath": "/etc/recsys/database-ca", "readOnly": True} \
                in container["volumeMounts"], container["name"]
            # the CA's Secret may also hold the server's key (recsys-deps' does): only ca.crt is projected
            assert {"name": "database-ca", "secret": {"secretName": "db-tls", "items": [{"key": "ca.crt",
                                                                                          "path": "ca.crt"}]}} \
                in pod["volumes"]
    assert clients == 4  # the gateway, the stream processor and its setup, the operator
    operator = _named(objects, "Deployment", "shop-recsys-operator")["spec"]["template"]["spec"]["containers"][0]
    assert _env(operator)["RECSYS_DATABASE_CA_SECRET"]["value"] == "db-tls"  # for its training Jobs
    plain = _objects(helm)
    assert not [c for o in plain if o["kind"] == "Deployment" for c in o["spec"]["template"]["spec"]["containers"]
                if "PGSSLMODE" in _env(c)]


@pytest.mark.parametrize("tls, scheme", [("false", "HTTP"), ("true", "HTTPS")])
def test_the_operators_liveness_is_its_event_loop_on_the_metrics_port(helm, tls, scheme):
    """kopf's own liveness endpoint speaks plain HTTP only: the chart probes /livez on the metrics port."""
    objects = _objects(helm, sets=(f"tls.enabled={tls}",))
    container = _named(objects, "Deployment", "shop-recsys-operator")["spec"]["template"]["spec"]["containers"][0]
    assert container["livenessProbe"]["httpGet"] == {"path": "/livez", "port": "metrics", "scheme": scheme}
    assert [p["name"] for p in container["ports"]] == ["metrics"]
    assert "RECSYS_OPERATOR_LIVENESS" not in _env(container)


def test_kafka_tls_reaches_every_kafka_client_with_only_the_files_it_needs(helm):
    objects = _objects(helm, sets=("kafka.tls.caSecret=kafka-ca", "kafka.tls.clientSecret=kafka-client"))
    clients = []
    for workload in (o for o in objects if o["kind"] == "Deployment"):
        pod = workload["spec"]["template"]["spec"]
        for container in pod.get("initContainers", []) + pod["containers"]:
            env = _env(container)
            if "RECSYS_KAFKA_BOOTSTRAP" not in env:
                assert not any(name.startswith("RECSYS_KAFKA_TLS") for name in env), container["name"]
                continue
            clients.append(container["name"])
            assert env["RECSYS_KAFKA_TLS_CA"]["value"] == "/etc/recsys/kafka-ca/ca.crt"
            assert env["RECSYS_KAFKA_TLS_CERT"]["value"] == "/etc/recsys/kafka-client/tls.crt"
            assert env["RECSYS_KAFKA_TLS_KEY"]["value"] == "/etc/recsys/kafka-client/tls.key"
            mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
            assert mounts["kafka-ca"] == "/etc/recsys/kafka-ca" and mounts["kafka-client"] == "/etc/recsys/kafka-client"
            volumes = {v["name"]: v for v in pod["volumes"]}
            assert volumes["kafka-ca"]["secret"] == {"secretName": "kafka-ca", "items": [{"key": "ca.crt",
                                                                                          "path": "ca.crt"}]}
            assert volumes["kafka-client"]["secret"]["secretName"] == "kafka-client"
    # the stream processor and its setup, both embedding tracks' readers, POST /events beside the gateway
    assert sorted(clients) == ["embedding", "embedding", "http", "setup", "stream"]
    plain = _objects(helm)
    assert not [c for o in plain if o["kind"] == "Deployment" for c in o["spec"]["template"]["spec"]["containers"]
                if "RECSYS_KAFKA_TLS_CA" in _env(c)]


def test_the_operator_may_change_only_its_namespaces_models_and_their_split_configmaps(helm):
    objects = _objects(helm, sets=("operator.extraModels[0]=books",))
    cluster_rules = _named(objects, "ClusterRole", "shop-recsys-operator")["rules"]
    assert not [r for r in cluster_rules if "recsys.dev" in r["apiGroups"]]  # no RecommenderModel outside it
    assert all(set(r["verbs"]) <= {"list", "watch"} for r in cluster_rules)
    rules = _named(objects, "Role", "shop-recsys-operator")["rules"]
    assert {"apiGroups": ["recsys.dev"], "resources": ["recommendermodels"],
            "verbs": ["list", "watch", "patch", "get"]} in rules
    configmaps = [r for r in rules if r["resources"] == ["configmaps"]]
    assert configmaps == [
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["create"]},
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "update", "delete"],
         "resourceNames": ["amazon-lightgcn-traffic-split", "books-traffic-split"]}]
    # the gateway reads the first of them
    split = _named(objects, "ConfigMap", "amazon-lightgcn-traffic-split")
    assert split["metadata"]["labels"]["recsys.dev/model"] == "amazon-lightgcn"


@pytest.mark.parametrize("sets", [(), ("shutdown.maxConnectionAgeSeconds=120", "shutdown.graceSeconds=20"),
                                  ("shutdown.drainSeconds=90", "shutdown.maxConnectionAgeSeconds=5")])
def test_serving_pods_get_the_shutdown_settings_and_time_for_the_longest_drain(helm, sets):
    from services.common.server import GrpcServer

    objects = _objects(helm, sets=sets)
    for name in SERVING_DEPLOYMENTS:
        pod = _named(objects, "Deployment", f"shop-recsys-{name}")["spec"]["template"]["spec"]
        env = _env(pod["containers"][0])
        drain, age, grace = (float(env[f"RECSYS_{key}_SECONDS"]["value"])
                             for key in ("DRAIN", "MAX_CONNECTION_AGE", "GRACE"))
        longest = GrpcServer([], "127.0.0.1:0", grace_s=grace, drain_delay_s=drain, max_connection_age_s=age)
        # the kubelet's SIGKILL must not cut the drain or the calls finishing after it
        assert pod["terminationGracePeriodSeconds"] >= longest.drain_limit_s + grace, (name, sets)
        assert pod["terminationGracePeriodSeconds"] <= longest.drain_limit_s + grace + 10, (name, sets)
