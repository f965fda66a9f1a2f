"""Monitoring: the alert rules pass promtool's checks and unit tests, every dashboard and alert
query names only metrics the code exports, and a real Prometheus scrapes a running `serve all`
under those names."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest
import yaml
from servers import wait_until_serving

from recsys.v1 import embedding_service_pb2 as emb_pb
from recsys.v1 import embedding_service_pb2_grpc as emb_grpc
from recsys.v1 import recommendation_service_pb2 as pb
from recsys.v1 import recommendation_service_pb2_grpc as pb_grpc
from recsys.v1 import retrieval_service_pb2 as ret_pb
from recsys.v1 import retrieval_service_pb2_grpc as ret_grpc
from stack.process import free_port
from stack.prometheus import PrometheusServer, prometheus_binaries

pytestmark = pytest.mark.integration  # real Prometheus and recsys processes

CHART = Path(__file__).resolve().parents[2] / "helm" / "recsys"
FILES = CHART / "files"
# PromQL words that look like metric names but are not
PROMQL_WORDS = {"sum", "by", "rate", "increase", "histogram_quantile", "max", "le", "without", "on", "ignoring",
                "and", "or", "unless", "avg", "min", "count", "irate", "topk", "bool"}


def _exported_metric_names() -> set[str]:
    """Every sample name the services, the stream processor and the operator can export."""
    from prometheus_client import REGISTRY

    import recsys_operator.handlers  # noqa: F401 - registers the operator's metrics
    import services.common.metrics  # noqa: F401
    import stream.metrics  # noqa: F401

    return {name for name in REGISTRY._names_to_collectors if name.startswith("recsys_")}


def _queries() -> list[tuple[str, str]]:
    found = []
    for rule_group in yaml.safe_load((FILES / "alerts.yaml").read_text())["groups"]:
        for rule in rule_group["rules"]:
            found.append((f"alert {rule['alert']}", rule["expr"]))
    for dashboard in (FILES / "dashboards").glob("*.json"):
        for panel in json.loads(dashboard.read_text())["panels"]:
            for target in panel["targets"]:
                found.append((f"{dashboard.name}: {panel['title']}", target["expr"]))
    return found


def _metric_names(expr: str) -> set[str]:
    without_strings = re.sub(r'"[^"]*"', '""', expr)
    without_labels = re.sub(r"\{[^}]*\}", "{}", without_strings)
    without_ranges = re.sub(r"\[[^\]]*\]", "[]", without_labels)
    without_groupings = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", without_ranges)
    names = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", without_groupings))
    return {n for n in names if n not in PROMQL_WORDS and not re.fullmatch(r"e\d*|Inf|NaN", n)}


def test_alert_rules_pass_promtool_check_and_unit_tests():
    _, promtool = prometheus_binaries()
    checked = subprocess.run([str(promtool), "check", "rules", "alerts.yaml"], cwd=FILES, capture_output=True,
                             text=True)
    assert checked.returncode == 0 and "SUCCESS" in checked.stdout, checked.stdout + checked.stderr
    tested = subprocess.run([str(promtool), "test", "rules", "alerts_test.yaml"], cwd=FILES, capture_output=True,
                            text=True)
    assert tested.returncode == 0 and "SUCCESS" in tested.stdout, tested.stdout + tested.stderr


def test_dashboards_and_alerts_only_use_exported_metrics():
    exported = _exported_metric_names()
    queries = _queries()
    assert len(queries) >= 15
    used = set()
    for where, expr in queries:
        names = _metric_names(expr)
        assert names, f"{where}: no metric in {expr!r}"
        unknown = names - exported
        assert not unknown, f"{where} uses {sorted(unknown)}, which nothing exports"
        used |= names
    # the dashboards cover serving, events and rollouts
    for needed in ("recsys_rpc_duration_seconds_bucket", "recsys_gateway_fallbacks_total",
                   "recsys_stream_consumer_lag", "recsys_stream_events_total", "recsys_model_info",
                   "recsys_gateway_traffic_weight", "recsys_stream_online_events_total",
                   "recsys_operator_canary_weight"):
        assert needed in used, needed


def test_the_metric_name_parser():
    assert _metric_names('sum by (le) (rate(a_bucket{x="y"}[5m])) / b_total > 0.5') == {"a_bucket", "b_total"}


@pytest.fixture(scope="module")
def serving(publish, tmp_path_factory):
    lightgcn, neumf = publish("lightgcn", "prom-l"), publish("neumf", "prom-n")
    ports = {name: free_port() for name in ("gateway", "retrieval", "scoring", "embedding", "http", "metrics")}
    env = {**os.environ, "RECSYS_ARTIFACT": str(lightgcn), "RECSYS_SCORING_ARTIFACT": str(neumf),
           "RECSYS_HOST": "127.0.0.1", "RECSYS_METRICS_PORT": str(ports["metrics"]),
           **{f"RECSYS_{n.upper()}_PORT": str(p) for n, p in ports.items() if n != "metrics"}}
    log = tmp_path_factory.mktemp("prom") / "serve.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "cli.main", "serve", "all"], env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    try:
        yield ports
    finally:
        process.terminate()
        process.wait(30)


def test_a_real_prometheus_scrapes_the_services_under_the_dashboards_names(serving, tmp_path):
    gateway = f"127.0.0.1:{serving['gateway']}"
    wait_until_serving(gateway)
    channel = grpc.insecure_channel(gateway)
    stub = pb_grpc.RecommendationServiceStub(channel)
    for n in range(20):
        stub.Recommend(pb.RecommendRequest(user_id=f"U{n:07d}", k=5), timeout=10)
    with pytest.raises(grpc.RpcError):
        stub.Recommend(pb.RecommendRequest(user_id="u", k=0), timeout=10)
    prometheus = PrometheusServer(tmp_path / "prometheus", free_port(), [f"127.0.0.1:{serving['metrics']}"]).start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not prometheus.query('up{job="recsys"} == 1'):
            time.sleep(0.5)
        assert prometheus.query('up{job="recsys"} == 1'), "Prometheus never scraped the serve-all process"
        # known users are answered from precomputed candidates; a caller that does not name the user
        # (a vector straight to RetrievalService) gets a scan, on the retrieval batcher
        embedding = emb_grpc.EmbeddingServiceStub(grpc.insecure_channel(f"127.0.0.1:{serving['embedding']}"))
        vector = embedding.GetUserEmbedding(emb_pb.GetUserEmbeddingRequest(user_id="U0000001"), timeout=10).vector
        retrieval = ret_grpc.RetrievalServiceStub(grpc.insecure_channel(f"127.0.0.1:{serving['retrieval']}"))
        for _ in range(3):  # a few more scrapes, so rate() has two points
            for n in range(5):
                stub.Recommend(pb.RecommendRequest(user_id=f"U{n:07d}", k=5), timeout=10)
                retrieval.Retrieve(ret_pb.RetrieveRequest(user_vector=vector, num_candidates=10), timeout=10)
            time.sleep(1.2)
        scraped = prometheus.metric_names()
        for name in ("recsys_rpc_total", "recsys_rpc_duration_seconds_bucket", "recsys_gateway_mode_total",
                     "recsys_model_info", "recsys_retrieval_candidates_bucket", "recsys_gateway_traffic_weight",
                     "recsys_batch_size_bucket"):
            assert name in scraped, f"{name} not scraped; got {sorted(n for n in scraped if n.startswith('recsys'))}"
        # the dashboard's own queries answer with data
        dashboard = json.loads((FILES / "dashboards" / "recsys-overview.json").read_text())
        by_title = {p["title"]: p["targets"] for p in dashboard["panels"]}
        rate = prometheus.query(by_title["Requests per second by method"][0]["expr"])
        assert any(r["metric"].get("method") == "Recommend" and float(r["value"][1]) > 0 for r in rate), rate
        errors = prometheus.query(by_title["Errors by service and code"][0]["expr"])
        assert any(r["metric"].get("code") == "INVALID_ARGUMENT" for r in errors), errors
        versions = prometheus.query(by_title["Served model versions"][0]["expr"])
        assert {r["metric"]["version"] for r in versions} >= {"prom-l"}
        batches = prometheus.query(by_title["Requests per micro-batch (p50) by batcher"][0]["expr"])
        assert {r["metric"].get("batcher") for r in batches} >= {"retrieval", "scoring"}, batches
        answered = prometheus.query(by_title["Retrievals by what answered them"][0]["expr"])
        assert {r["metric"].get("answered_by") for r in answered} >= {"precomputed", "scan"}, answered
    finally:
        prometheus.stop()
        channel.close()
