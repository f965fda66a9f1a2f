"""The umbrella chart (helm/recsys-stack) and its data stores (helm/recsys-deps): maintained sources
only, the application wired to the data stores' fixed names, the umbrella assembled offline by
`python -m stack chart` linted and rendered with each of its ci/*-values.yaml into a server-side dry
run on a real kube-apiserver, and the Kafka stand-in image reading the chart's settings exactly as
the official image's contract says. The whole stack installed on the real node:
tests/stack/test_product_on_node.py."""

from __future__ import annotations

import base64
import re
import stat
import subprocess
import uuid
from pathlib import Path

import pytest
import yaml

from stack.helm import helm_binary, offline_stack_chart
from stack.kube import KUBE_VERSION

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "helm" / "recsys"
DEPS = REPO / "helm" / "recsys-deps"
STACK = REPO / "helm" / "recsys-stack"
STACK_CI_VALUES = sorted((STACK / "ci").glob("*-values.yaml"))
NO_MONITORING = "kube-prometheus-stack.enabled=false"


@pytest.fixture(scope="module")
def helm() -> str:
    return str(helm_binary())


@pytest.fixture(scope="module")
def umbrella(tmp_path_factory) -> Path:
    return offline_stack_chart(tmp_path_factory.mktemp("charts"))


def _run(*argv: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), input=stdin, capture_output=True, text=True)


def _render(helm: str, chart: Path, *args: str, namespace: str = "recsys") -> list[dict]:
    rendered = _run(helm, "template", "shop", str(chart), "--namespace", namespace, "--kube-version", KUBE_VERSION,
                    *args)
    assert rendered.returncode == 0, rendered.stderr
    return [o for o in yaml.safe_load_all(rendered.stdout) if o]


def _named(objects: list[dict], kind: str, name: str) -> dict:
    return next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name)


def _version(chart: Path) -> str:
    return yaml.safe_load((chart / "Chart.yaml").read_text())["version"]


def test_the_umbrella_pins_each_dependency_and_takes_none_from_bitnami():
    dependencies = {d["name"]: d for d in yaml.safe_load((STACK / "Chart.yaml").read_text())["dependencies"]}
    assert set(dependencies) == {"recsys", "recsys-deps", "kube-prometheus-stack"}
    for name, chart in (("recsys", APP), ("recsys-deps", DEPS)):
        assert dependencies[name]["repository"] == f"file://../{chart.name}"
        assert dependencies[name]["version"] == _version(chart), f"{name}'s pin is behind its chart"
    monitoring = dependencies["kube-prometheus-stack"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", monitoring["version"])
    assert monitoring["repository"] == "https://prometheus-community.github.io/helm-charts"
    for name in ("recsys-deps", "kube-prometheus-stack"):
        assert dependencies[name]["condition"] == f"{name}.enabled"
    charts = "".join(path.read_text() for path in (REPO / "helm").rglob("*.yaml"))
    assert "bitnami" not in charts.lower()
    deps = yaml.safe_load((DEPS / "values.yaml").read_text())
    # the images their own projects publish
    assert deps["postgresql"]["image"]["repository"] == "docker.io/library/postgres"
    assert deps["kafka"]["image"]["repository"] == "docker.io/apache/kafka"


def test_the_umbrella_values_wire_the_application_to_its_data_stores(helm):
    values = yaml.safe_load((STACK / "values.yaml").read_text())
    app = values["recsys"]
    deps = _render(helm, DEPS)
    kafka_host, kafka_port = app["kafka"]["bootstrap"].split(":")
    kafka = _named(deps, "Service", kafka_host)
    assert [p["port"] for p in kafka["spec"]["ports"]] == [int(kafka_port)]
    assert _named(deps, "Secret", app["database"]["existingSecret"])["data"]["url"]
    # one Kafka broker: the stream processor creates the topics with one copy each
    assert app["kafka"]["createTopics"]["enabled"] is True and app["kafka"]["createTopics"]["replicationFactor"] == 1
    sidecar = values["kube-prometheus-stack"]["grafana"]["sidecar"]["dashboards"]
    assert sidecar["label"] == app["monitoring"]["dashboards"]["label"] and sidecar["labelValue"] == "1"
    spec = values["kube-prometheus-stack"]["prometheus"]["prometheusSpec"]
    assert spec["serviceMonitorSelectorNilUsesHelmValues"] is False and spec["ruleSelectorNilUsesHelmValues"] is False


def test_postgresql_tls_takes_only_encrypted_connections_and_the_url_insists_on_verification(helm):
    objects = _render(helm, DEPS, "--set", "postgresql.tls.enabled=true")
    secret = _named(objects, "Secret", "recsys-postgresql-tls")
    assert secret["type"] == "kubernetes.io/tls" and set(secret["data"]) == {"tls.crt", "tls.key", "ca.crt"}
    certificate = base64.b64decode(secret["data"]["tls.crt"])
    names = subprocess.run(["openssl", "x509", "-noout", "-ext", "subjectAltName"], input=certificate,
                           capture_output=True, check=True).stdout.decode()
    assert "DNS:recsys-postgresql," in names and "DNS:recsys-postgresql.recsys.svc," in names
    rules = [line.split() for line in _named(objects, "ConfigMap", "recsys-postgresql-hba")["data"]["pg_hba.conf"]
             .splitlines() if line.strip()]
    assert rules == [["local", "all", "all", "trust"], ["hostssl", "all", "all", "all", "scram-sha-256"]]
    pod = _named(objects, "StatefulSet", "recsys-postgresql")["spec"]["template"]["spec"]
    options = dict(pair.split("=", 1) for pair in pod["containers"][0]["args"][1::2])
    assert options["ssl"] == "on" and options["hba_file"] == "/etc/postgresql/hba/pg_hba.conf"
    assert options["ssl_key_file"] == "/etc/postgresql/tls/tls.key"
    tls = next(v for v in pod["volumes"] if v["name"] == "tls")["secret"]
    # root-owned and group-readable by postgres (fsGroup): what PostgreSQL accepts for a key it does not own
    assert tls["defaultMode"] == 0o640 and pod["securityContext"]["fsGroup"] == 999
    url = base64.b64decode(_named(objects, "Secret", "recsys-database")["data"]["url"]).decode()
    assert url.endswith("@recsys-postgresql.recsys.svc:5432/recsys?sslmode=verify-full")
    # off by default in this chart (plain text, no certificate, no hba override); on in the umbrella
    plain = _render(helm, DEPS)
    assert "args" not in _named(plain, "StatefulSet", "recsys-postgresql")["spec"]["template"]["spec"]["containers"][0]
    assert not [o for o in plain if o["metadata"]["name"] in ("recsys-postgresql-tls", "recsys-postgresql-hba")]
    stack = yaml.safe_load((STACK / "values.yaml").read_text())
    assert stack["recsys-deps"]["postgresql"]["tls"]["enabled"] is True
    assert stack["recsys"]["database"]["tls"]["caSecret"] == "recsys-postgresql-tls"
    mine = _render(helm, DEPS, "--set", "postgresql.tls.enabled=true", "--set", "postgresql.tls.existingSecret=mine")
    assert not [o for o in mine if o["kind"] == "Secret" and o["metadata"]["name"] == "recsys-postgresql-tls"]


def _openssl(*args: str, stdin: bytes | None = None) -> str:
    return subprocess.run(["openssl", *args], input=stdin, capture_output=True, check=True).stdout.decode()


def _secret_files(secret: dict, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for key, value in secret["data"].items():
        (directory / key).write_bytes(base64.b64decode(value))
    return directory


def test_kafka_tls_serves_only_tls_and_requires_the_chart_made_client_certificate(helm, tmp_path):
    objects = _render(helm, DEPS, "--set", "kafka.tls.enabled=true", "--set", "kafka.tls.requireClientCertificate=true")
    ca, server, client = (_secret_files(_named(objects, "Secret", name), tmp_path / name)
                          for name in ("recsys-kafka-ca", "recsys-kafka-tls", "recsys-kafka-client-tls"))
    assert (server / "ca.crt").read_bytes() == (ca / "tls.crt").read_bytes() == (client / "ca.crt").read_bytes()
    for issued in (server, client):
        assert _openssl("verify", "-CAfile", str(ca / "tls.crt"), str(issued / "tls.crt")).endswith(": OK\n")
    names = _openssl("x509", "-noout", "-ext", "subjectAltName", "-in", str(server / "tls.crt"))
    assert "DNS:recsys-kafka," in names and "DNS:recsys-kafka.recsys.svc," in names and "DNS:localhost" in names
    assert "TLS Web Client Authentication" in _openssl("x509", "-noout", "-ext", "extendedKeyUsage",
                                                       "-in", str(client / "tls.crt"))
    pod = _named(objects, "StatefulSet", "recsys-kafka")["spec"]["template"]["spec"]
    env = {e["name"]: e["value"] for e in pod["containers"][0]["env"]}
    # the clients' listener speaks only TLS (named TLS: the official image's start script reserves
    # the name SSL for JKS/PKCS12 keystores with passwords); the controller stays on loopback
    assert env["KAFKA_LISTENERS"] == "TLS://:9092,CONTROLLER://127.0.0.1:9093"
    assert env["KAFKA_ADVERTISED_LISTENERS"] == "TLS://recsys-kafka.recsys.svc:9092"
    assert env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"] == "CONTROLLER:PLAINTEXT,TLS:SSL"
    assert "SSL://" not in env["KAFKA_ADVERTISED_LISTENERS"] and env["KAFKA_INTER_BROKER_LISTENER_NAME"] == "TLS"
    assert env["KAFKA_SSL_CLIENT_AUTH"] == "required" and env["KAFKA_SSL_KEYSTORE_TYPE"] == "PEM"
    assert env["KAFKA_SSL_KEYSTORE_LOCATION"] == "/var/run/kafka-keystore/keystore.pem"
    assert env["KAFKA_SSL_TRUSTSTORE_LOCATION"] == "/etc/kafka/tls/ca.crt"
    (init,) = pod["initContainers"]
    assert init["image"] == pod["containers"][0]["image"]
    assert init["command"][:3] == ["bash", "-c", (DEPS / "files" / "kafka-keystore.sh").read_text()]
    assert init["command"][3:] == ["kafka-keystore", "/etc/kafka/tls", "/var/run/kafka-keystore/keystore.pem"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["tls"]["secret"]["secretName"] == "recsys-kafka-tls"
    assert volumes["tls"]["secret"]["defaultMode"] == 0o440  # root-owned, readable by the appuser group
    assert volumes["keystore"]["emptyDir"]["medium"] == "Memory"
    # the init container's keystore from the chart's own (PKCS#1) key, as the pod runs it
    keystore = tmp_path / "keystore.pem"
    made = _run(*init["command"][:3], "kafka-keystore", str(server), str(keystore))
    assert made.returncode == 0, made.stderr
    assert keystore.read_text() == _openssl("pkcs8", "-topk8", "-nocrypt", "-in", str(server / "tls.key")) + (
        server / "tls.crt").read_text()
    assert stat.S_IMODE(keystore.stat().st_mode) == 0o600

    # off by default in this chart: plain text, no certificates; on in the umbrella, wired to the application
    plain = _named(_render(helm, DEPS), "StatefulSet", "recsys-kafka")["spec"]["template"]["spec"]
    assert "initContainers" not in plain
    assert not any(e["name"].startswith("KAFKA_SSL") for e in plain["containers"][0]["env"])
    stack = yaml.safe_load((STACK / "values.yaml").read_text())
    assert stack["recsys-deps"]["kafka"]["tls"] == {"enabled": True, "requireClientCertificate": True}
    assert stack["recsys"]["kafka"]["tls"] == {"caSecret": "recsys-kafka-tls",
                                               "clientSecret": "recsys-kafka-client-tls"}
    mine = _render(helm, DEPS, "--set", "kafka.tls.enabled=true", "--set", "kafka.tls.existingSecret=mine")
    assert not [o for o in mine if o["kind"] == "Secret" and o["metadata"]["name"].startswith("recsys-kafka")]
    mine_pod = _named(mine, "StatefulSet", "recsys-kafka")["spec"]["template"]["spec"]
    assert next(v for v in mine_pod["volumes"] if v["name"] == "tls")["secret"]["secretName"] == "mine"
    assert {e["name"]: e["value"] for e in mine_pod["containers"][0]["env"]}["KAFKA_SSL_CLIENT_AUTH"] == "none"


@pytest.mark.integration
def test_a_real_kafka_broker_serves_the_chart_made_certificates_to_the_chart_made_client(helm, tmp_path):
    """What the Kafka pod does with the chart's Secrets, on a real broker here: the keystore script's
    PKCS#8 key and the chart's certificate on a listener requiring client certificates, and the
    application's client (librdkafka) verifying it for the name localhost with the chart-made identity."""
    from events.kafka_tls import KafkaTls
    from stack import KafkaBroker
    from stack.process import free_port

    objects = _render(helm, DEPS, "--set", "kafka.tls.enabled=true", "--set", "kafka.tls.requireClientCertificate=true")
    server = _secret_files(_named(objects, "Secret", "recsys-kafka-tls"), tmp_path / "server")
    client = _secret_files(_named(objects, "Secret", "recsys-kafka-client-tls"), tmp_path / "client")
    keystore = tmp_path / "keystore.pem"
    assert _run("bash", str(DEPS / "files" / "kafka-keystore.sh"), str(server), str(keystore)).returncode == 0
    broker_tls = tmp_path / "broker-tls"  # the layout KafkaBroker reads: tls.key (PKCS#8), tls.crt, ca.crt
    broker_tls.mkdir()
    key, _, _ = keystore.read_text().partition("-----END PRIVATE KEY-----\n")
    (broker_tls / "tls.key").write_text(key + "-----END PRIVATE KEY-----\n")
    for name in ("tls.crt", "ca.crt"):
        (broker_tls / name).write_bytes((server / name).read_bytes())
    broker = KafkaBroker(tmp_path / "broker", free_port(), free_port(), tls_dir=broker_tls, tls_port=free_port(),
                         mtls_port=free_port()).start(timeout_s=180)
    try:
        from confluent_kafka.admin import AdminClient

        identity = KafkaTls(ca=client / "ca.crt", cert=client / "tls.crt", key=client / "tls.key").client_config()
        admin = AdminClient({"bootstrap.servers": broker.mtls_bootstrap, **identity})
        assert admin.list_topics(timeout=30).brokers  # the handshake both ways, then metadata
    finally:
        broker.stop()


@pytest.mark.parametrize("key", ["pkcs8", "ec"])
def test_the_kafka_keystore_script_copies_a_pkcs8_key_and_refuses_what_kafka_cannot_read(tmp_path, key):
    secret = tmp_path / "secret"
    secret.mkdir()
    algorithm = ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"] if key == "pkcs8" else [
        "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]
    pem = _openssl("genpkey", *algorithm)
    if key == "ec":  # the SEC1 form ("BEGIN EC PRIVATE KEY") Kafka's PEM keystore does not read
        pem = _openssl("ec", stdin=pem.encode())
    (secret / "tls.key").write_text(pem)
    (secret / "tls.crt").write_text("-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n")
    keystore = tmp_path / "keystore.pem"
    made = _run("bash", str(DEPS / "files" / "kafka-keystore.sh"), str(secret), str(keystore))
    if key == "pkcs8":
        assert made.returncode == 0 and keystore.read_text() == pem + (secret / "tls.crt").read_text()
    else:
        assert made.returncode == 1 and "neither an unencrypted PKCS#8 key nor a PKCS#1 RSA key" in made.stderr
        assert not keystore.exists()


def test_the_data_stores_are_statefulsets_with_claims_unless_persistence_is_off(helm):
    objects = _render(helm, DEPS)
    for name, mount in (("recsys-postgresql", "/var/lib/postgresql/data"), ("recsys-kafka", "/var/lib/kafka/data")):
        workload = _named(objects, "StatefulSet", name)
        assert workload["spec"]["serviceName"] == f"{name}-headless"
        assert _named(objects, "Service", f"{name}-headless")["spec"]["clusterIP"] == "None"
        claim = workload["spec"]["volumeClaimTemplates"][0]
        assert claim["metadata"]["name"] == "data" and claim["spec"]["resources"]["requests"]["storage"] == "8Gi"
        pod = workload["spec"]["template"]["spec"]
        assert pod["automountServiceAccountToken"] is False and pod["securityContext"]["runAsNonRoot"] is True
        assert {"name": "data", "mountPath": mount} in pod["containers"][0]["volumeMounts"]
        assert all(v["name"] != "data" for v in pod["volumes"])
    ephemeral = _render(helm, DEPS, "--set", "postgresql.persistence.enabled=false",
                        "--set", "kafka.persistence.enabled=false", "--set", "postgresql.persistence.storageClass=x")
    for name in ("recsys-postgresql", "recsys-kafka"):
        workload = _named(ephemeral, "StatefulSet", name)
        assert "volumeClaimTemplates" not in workload["spec"]
        assert {"name": "data", "emptyDir": {}} in workload["spec"]["template"]["spec"]["volumes"]


def test_the_offline_umbrella_lints_and_each_ci_values_file_passes_a_server_side_dry_run(
        helm, umbrella, kube_apiserver):
    assert STACK_CI_VALUES, "no helm/recsys-stack/ci/*-values.yaml"
    linted = _run(helm, "lint", str(umbrella), "--set", NO_MONITORING)
    assert linted.returncode == 0, linted.stdout + linted.stderr
    kubectl = ("kubectl", "--kubeconfig", str(kube_apiserver.kubeconfig))
    for values in [None, *STACK_CI_VALUES]:
        namespace = f"stack-{uuid.uuid4().hex[:6]}"
        assert _run(*kubectl, "create", "namespace", namespace).returncode == 0
        args = ["-f", str(values)] if values else ["--set", NO_MONITORING]
        objects = _render(helm, umbrella, *args, namespace=namespace)
        kinds = {(o["kind"], o["metadata"]["name"]) for o in objects}
        assert {("StatefulSet", "recsys-postgresql"), ("StatefulSet", "recsys-kafka"),
                ("Deployment", "shop-recsys-gateway"), ("Secret", "recsys-database")} <= kinds, values
        applied = _run(*kubectl, "apply", "--dry-run=server", "-n", namespace, "-f", "-",
                       stdin=yaml.safe_dump_all(objects))
        assert applied.returncode == 0, f"{values}: {applied.stderr}"


def test_the_offline_umbrella_says_why_it_cannot_install_the_monitoring_stack(helm, umbrella):
    rendered = _run(helm, "template", "shop", str(umbrella))
    assert rendered.returncode != 0
    assert "kube-prometheus-stack was not downloaded" in rendered.stderr
    assert "kube-prometheus-stack.enabled=false" in rendered.stderr


def test_the_umbrella_notes_name_the_release_and_its_parts(helm, umbrella, kube_apiserver):
    notes = _run(helm, "install", "shop", str(umbrella), "--dry-run=client", "--namespace", "recsys",
                 "--kubeconfig", str(kube_apiserver.kubeconfig), "--set", NO_MONITORING)
    assert notes.returncode == 0, notes.stderr
    text = notes.stdout[notes.stdout.index("NOTES:"):]
    assert "port-forward svc/shop-recsys-gateway 50051 8080" in text
    assert "recsys-postgresql" in text and "helm test shop -n recsys" in text
    assert "Prometheus, Alertmanager" not in text


@pytest.mark.parametrize("sets, says", [
    ((), "--set kafka.bootstrap=recsys-kafka:9092\n"),
    (("kafka.tls.enabled=true", "kafka.tls.requireClientCertificate=true"),
     "TLS only - helm/recsys: --set kafka.tls.caSecret=recsys-kafka-tls --set kafka.tls.clientSecret="
     "recsys-kafka-client-tls (client certificates required)"),
    (("kafka.tls.enabled=true", "kafka.tls.existingSecret=mine"),
     "TLS only - helm/recsys: --set kafka.tls.caSecret=mine\n"),
])
def test_the_data_stores_notes_say_which_secrets_the_application_takes(helm, kube_apiserver, sets, says):
    notes = _run(helm, "install", "deps", str(DEPS), "--dry-run=client", "--namespace", "recsys",
                 "--kubeconfig", str(kube_apiserver.kubeconfig), *(a for s in sets for a in ("--set", s)))
    assert notes.returncode == 0, notes.stderr
    text = notes.stdout[notes.stdout.index("NOTES:"):]
    assert says in text and "--set database.existingSecret=recsys-database" in text
    assert ("TLS only" in text) == bool(sets)


def _fake_java(directory: Path) -> Path:
    """A `java` that records its arguments: the entrypoint's last steps, without a JVM."""
    log = directory / "java.log"
    java = directory / "java"
    java.write_text(f'#!/bin/sh\necho "$@" >> {log}\n')
    java.chmod(java.stat().st_mode | stat.S_IEXEC)
    return log


def test_the_kafka_stand_in_reads_the_charts_settings_as_the_official_image_does(helm, tmp_path):
    """The chart's KAFKA_* variables become the same broker properties in the stand-in's
    server.properties (KAFKA_LOG_DIRS -> log.dirs, `__` -> `_`, `___` -> `-`), *_OPTS stay JVM options."""
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump({"kafka": {"config": {"log.retention.hours": 168, "a_b-c.d": "x"}}}))
    workload = _named(_render(helm, DEPS, "-f", str(values), namespace="shop-ns"), "StatefulSet", "recsys-kafka")
    env = {e["name"]: e["value"] for e in workload["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["KAFKA_LOG_RETENTION_HOURS"] == "168" and env["KAFKA_A__B___C_D"] == "x"
    java_log = _fake_java(tmp_path)
    clean = {"PATH": f"{tmp_path}:/usr/bin:/bin", "SERVER_CONFIG_DIR": str(tmp_path)}
    started = _run("env", "-i", *(f"{k}={v}" for k, v in {**clean, **env}.items()),
                   str(REPO / "stack" / "images" / "kafka" / "entrypoint.sh"))
    assert started.returncode == 0, started.stderr
    properties = dict(line.split("=", 1) for line in (tmp_path / "server.properties").read_text().splitlines())
    assert properties["advertised.listeners"] == "PLAINTEXT://recsys-kafka.shop-ns.svc:9092"
    assert properties["log.dirs"] == "/var/lib/kafka/data/logs"
    assert properties["process.roles"] == "broker,controller" and properties["node.id"] == "1"
    assert properties["controller.quorum.voters"] == "1@127.0.0.1:9093"
    assert properties["auto.create.topics.enable"] == "false" and properties["log.retention.hours"] == "168"
    assert properties["a_b-c.d"] == "x"
    assert not any(name.endswith("opts") for name in properties)  # KAFKA_HEAP_OPTS is for the JVM
    format_call, start_call = java_log.read_text().splitlines()
    assert f"StorageTool format --ignore-formatted -t {env['CLUSTER_ID']}" in format_call
    assert start_call.startswith(env["KAFKA_HEAP_OPTS"]) and start_call.endswith("kafka.Kafka "
                                                                               f"{tmp_path}/server.properties")
    without_id = _run("env", "-i", *(f"{k}={v}" for k, v in {**clean, **env}.items() if k != "CLUSTER_ID"),
                      str(REPO / "stack" / "images" / "kafka" / "entrypoint.sh"))
    assert without_id.returncode != 0 and "CLUSTER_ID environment variable not set" in without_id.stderr


def test_the_umbrellas_node_values_are_its_charts_node_values():
    """One install (helm/recsys-stack) or two (helm/recsys-deps, then helm/recsys, as Tilt does) put
    the same settings on a one-node cluster."""
    umbrella = yaml.safe_load((STACK / "ci" / "node-values.yaml").read_text())
    assert umbrella["recsys"] == yaml.safe_load((APP / "ci" / "node-values.yaml").read_text())
    assert umbrella["recsys-deps"] == yaml.safe_load((DEPS / "ci" / "node-values.yaml").read_text())
    assert umbrella["kube-prometheus-stack"] == {"enabled": False}


def test_every_example_recommendermodel_passes_the_crds_validation(kube_apiserver):
    """What README and NOTES tell users to apply (the CPU example is the one the node test trains)."""
    examples = sorted((REPO / "operator" / "examples").glob("recommendermodel*.yaml"))
    assert len(examples) >= 2
    for example in examples:
        applied = _run("kubectl", "--kubeconfig", str(kube_apiserver.kubeconfig), "apply", "--dry-run=server",
                       "-n", "default", "-f", str(example))
        assert applied.returncode == 0, f"{example.name}: {applied.stderr}"


@pytest.mark.parametrize("setting, message", [
    ("kafka.clusterId=short", "/kafka/clusterId"),
    ("postgresql.persistence.size=lots", "/postgresql/persistence/size"),
    ("postgresql.image.pullPolicy=Sometimes", "value must be one of 'Always', 'IfNotPresent', 'Never'"),
    ("kafka.config.Log_Dirs=/x", "does not match pattern"),
    ("postgresql.databse=typo", "additional properties 'databse' not allowed"),
])
def test_bad_data_store_values_are_rejected_by_the_schema(helm, setting, message):
    result = _run(helm, "template", "r", str(DEPS), "--set", setting)
    assert result.returncode != 0 and message in result.stderr, result.stderr
