"""The HTTP/JSON API, round trip on a real `recsys serve all` (in-process gateway) and a real
`recsys serve http` in front of its gRPC gateway: every endpoint, the same answers as gRPC, bad
input as RFC 9457 problems, events through the embedded pipeline, metrics by route."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator

import grpc
import pytest
from http_helpers import Served, request
from servers import eventually

from recsys.v1 import recommendation_service_pb2 as pb
from recsys.v1 import recommendation_service_pb2_grpc as pb_grpc
from stack.process import free_port

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def grpc_gateway(served: Served) -> Iterator[pb_grpc.RecommendationServiceStub]:
    with grpc.insecure_channel(served.gateway) as channel:
        yield pb_grpc.RecommendationServiceStub(channel)


@pytest.fixture(scope="module")
def standalone(served: Served, tmp_path_factory) -> Iterator[str]:
    """`recsys serve http` reaching the same gateway over gRPC."""
    port, log = free_port(), tmp_path_factory.mktemp("http-alone") / "http.log"
    env = {**os.environ, "RECSYS_HTTP_PORT": str(port), "RECSYS_GATEWAY_ADDR": served.gateway,
           "RECSYS_HOST": "127.0.0.1", "RECSYS_METRICS_PORT": "0"}
    env.pop("RECSYS_KAFKA_BOOTSTRAP", None)
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "cli.main", "serve", "http"], env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        eventually(lambda: _ready(base), 60, "serve http ready", interval_s=0.2)
        yield base
    finally:
        process.terminate()
        assert process.wait(30) == 0, log.read_text()[-2000:]


def _ready(base: str) -> bool:
    try:
        return request("GET", base + "/ready")[0] == 200
    except OSError:
        return False


def test_health_ready_system_info_and_models(served):
    assert served.get("/health")[:2] == (200, {"status": "ok"})
    assert served.get("/ready")[:2] == (200, {"status": "ready"})
    status, info, _ = served.get("/system-info")
    assert status == 200 and int(info["items"]) == len(served.items) and info["version"]
    status, answer, _ = served.get("/models")
    assert status == 200
    versions = {model["version"]: model for model in answer["models"]}
    assert "http-v1" in versions and versions["http-v1"]["trafficWeight"] == 1.0
    assert versions["http-v1"]["type"] == "lightgcn" and versions["http-v1"]["metrics"]


def test_recommendations_are_the_grpc_answers_in_json(served, grpc_gateway, standalone):
    body = {"userId": "U0000003", "k": 5, "filters": {"maxPrice": 1000}}
    status, answer, headers = served.post("/recommendations", body)
    assert status == 200 and headers["content-type"] == "application/json"
    assert len(answer["items"]) == 5 and answer["mode"] == "SERVING_MODE_FULL" and answer["degradedReasons"] == []
    first = answer["items"][0]
    assert set(first) == {"itemId", "score", "modelVersion", "reason", "product"} and first["product"]["itemId"]
    expected = grpc_gateway.Recommend(pb.RecommendRequest(user_id="U0000003", k=5, filters={"max_price": 1000}),
                                      timeout=10)
    assert [item["itemId"] for item in answer["items"]] == [item.item_id for item in expected.items]
    # the proto field names are accepted too (protobuf's JSON mapping)
    again = request("POST", standalone + "/recommendations", {"user_id": "U0000003", "k": 5,
                                                               "filters": {"max_price": 1000}})[1]
    assert [item["itemId"] for item in again["items"]] == [item.item_id for item in expected.items]


def test_a_version_from_models_can_be_asked_for(served):
    version = served.get("/models")[1]["models"][0]["version"]
    status, answer, _ = served.post("/recommendations", {"userId": "U0000003", "k": 3, "modelVersion": version})
    assert status == 200 and answer["modelVersion"] == version
    status, problem, _ = served.post("/recommendations", {"userId": "U0000003", "k": 3, "modelVersion": "v-none"})
    assert status == 400 and f"serving {version}" in problem["detail"]


def test_products_and_history(served, standalone):
    item = served.items[0]
    for base in (served.http, standalone):
        status, answer, _ = request("GET", f"{base}/products/{item}")
        assert status == 200 and answer["product"]["itemId"] == item
        status, problem, headers = request("GET", f"{base}/products/no-such-product")
        assert (status, problem["grpcStatus"], headers["content-type"]) == (404, "NOT_FOUND", PROBLEM)
        assert "no-such-product" in problem["detail"] and problem["instance"] == "/products/no-such-product"
    status, answer, _ = served.get("/users/someone-new/history")
    assert (status, answer) == (200, {"interactions": []})


@pytest.mark.parametrize("method, path, body, status, words", [
    ("POST", "/recommendations", b"{not json", 400, "not JSON"),
    ("POST", "/recommendations", [1, 2], 422, "JSON object"),
    ("POST", "/recommendations", {"userId": "u", "kay": 3}, 422, "no field named \"kay\""),
    ("POST", "/recommendations", {"userId": "u", "k": "many"}, 422, "k"),
    ("POST", "/recommendations", {"userId": "u", "k": 1000}, 400, "k must be"),
    ("POST", "/recommendations", {"userId": "", "k": 5}, 400, "user_id"),
    ("POST", "/recommendations", b"{" + b" " * 70_000 + b"}", 413, "limit"),
    ("GET", "/users/u/history?limit=abc", None, 422, "limit"),
    ("GET", "/users/u/history?limit=100000", None, 400, "at most"),
    ("GET", "/no/such/route", None, 404, "no such resource"),
    ("POST", "/events", {"userId": "u", "itemId": "x", "type": "teleport"}, 422, "type"),
    ("POST", "/events", {"userId": "u", "type": "click"}, 400, "item_id is empty"),
    ("POST", "/events", {"userId": "u", "itemId": "x", "type": "rating", "value": 9}, 400, "between 1 and 5"),
])
def test_bad_input_is_a_problem_with_a_clear_detail(served, method, path, body, status, words):
    answer_status, problem, headers = request(method, served.http + path, body)
    assert answer_status == status, problem
    assert headers["content-type"] == PROBLEM
    assert problem["status"] == status and problem["title"] and problem["type"] == "about:blank"
    assert words in problem["detail"], problem


def test_an_event_goes_through_the_pipeline_and_changes_the_answer(served):
    user = f"web-{uuid.uuid4().hex[:6]}"
    cold = served.post("/recommendations", {"userId": user, "k": 5})[1]
    assert "popular" in cold["items"][0]["reason"]
    bought = cold["items"][0]["itemId"]
    status, accepted, _ = served.post("/events", {"userId": user, "itemId": bought, "type": "purchase"})
    assert status == 202 and accepted["eventId"] and accepted["time"] and accepted["value"] == 1.0
    assert accepted["type"] == "INTERACTION_TYPE_PURCHASE"
    warm = eventually(lambda: (a := served.post("/recommendations", {"userId": user, "k": 5})[1])
                      and "for you" in a["items"][0]["reason"] and a, 30, "a personal answer", interval_s=0.05)
    assert bought not in [item["itemId"] for item in warm["items"]]
    history = eventually(lambda: served.get(f"/users/{user}/history")[1]["interactions"], 30, "the history",
                         interval_s=0.05)
    assert history[0]["itemId"] == bought and history[0]["type"] == "INTERACTION_TYPE_PURCHASE"


def test_standalone_without_kafka_says_events_need_it(standalone):
    status, problem, _ = request("POST", standalone + "/events", {"userId": "u", "itemId": "x", "type": "click"})
    assert status == 501 and "RECSYS_KAFKA_BOOTSTRAP" in problem["detail"]


def test_docs_and_openapi_show_the_proto_schemas(served):
    status, document, _ = served.get("/openapi.json")
    assert status == 200
    schemas = document["components"]["schemas"]
    assert set(schemas["RecommendRequest"]["properties"]) == {"userId", "k", "filters", "model", "modelVersion",
                                                             "context"}
    assert schemas["RecommendResponse"]["properties"]["mode"]["enum"][1] == "SERVING_MODE_FULL"
    assert "Problem" in schemas and "/recommendations" in document["paths"]
    with urllib.request.urlopen(served.http + "/docs", timeout=10) as page:
        assert b"swagger" in page.read().lower()
    with urllib.request.urlopen(served.http + "/", timeout=10) as page:
        assert b"<title>recsys" in page.read()


def test_requests_are_counted_by_route_template(served):
    served.get("/products/" + served.items[1])
    text = urllib.request.urlopen(served.metrics, timeout=10).read().decode()
    assert 'recsys_http_requests_total{method="GET",route="/products/{item_id}",status="200"}' in text
    assert served.items[1] not in text  # ids never become labels


def test_loadtest_drives_the_http_api(served, tmp_path):
    import asyncio

    from cli.loadtest import run_load, write_result

    result = asyncio.run(run_load(served.http, duration_s=2, concurrency=4, users=500, warmup_s=0.5, http=True))
    assert result.ok > 20 and result.errors == {} and result.throughput_rps > 0
    assert result.p50_ms <= result.p99_ms and result.serving_modes.get("FULL", 0) > 0
    assert 0 < result.coverage <= 1 and result.connections == 4  # one keep-alive connection per caller
    write_result(result, tmp_path / "load.json")
    assert (tmp_path / "load.json").read_text().count("throughput_rps") == 1
