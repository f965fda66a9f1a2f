"""Every RPC of the four services, on a real `recsys serve all`, gets RECSYS_FUZZ_N (default 2,000)
hostile bodies: random bytes, mutations of valid requests, and messages with edge values in every
field (tests/fuzz_inputs.py). Each answer must be OK or a caller's-fault code (INVALID_ARGUMENT,
NOT_FOUND, or RESOURCE_EXHAUSTED from gRPC itself for a body over 4 MiB), never INTERNAL, UNKNOWN
or a hang; every call a handler sees is counted in recsys_rpc_total; the services stay SERVING;
the log stays short and holds no traceback."""

from __future__ import annotations

import json
import os
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from fuzz_inputs import payloads
from grpc_health.v1 import health_pb2
from servers import start_serve_all, wait_until_serving

from recsys.v1 import common_pb2
from recsys.v1 import embedding_service_pb2 as embedding
from recsys.v1 import recommendation_service_pb2 as gateway
from recsys.v1 import retrieval_service_pb2 as retrieval
from recsys.v1 import scoring_service_pb2 as scoring

pytestmark = pytest.mark.integration
N = int(os.environ.get("RECSYS_FUZZ_N", "2000"))  # 10,000 per RPC takes about 11 minutes on 2 cores
IN_FLIGHT = 16
# RESOURCE_EXHAUSTED: a body over gRPC's 4 MiB limit, refused by gRPC itself before any handler
# runs (so the services' own metrics do not see it)
ALLOWED = {grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND,
           grpc.StatusCode.RESOURCE_EXHAUSTED}
CLICK = common_pb2.INTERACTION_TYPE_CLICK


def _rpcs(items: list[str]) -> dict[tuple[str, str], tuple[list, type]]:
    """(port name, method path) -> (valid requests to mutate, the request message)."""
    vector = [0.1] * 64
    return {
        ("gateway", "/recsys.v1.RecommendationService/Recommend"): (
            [gateway.RecommendRequest(user_id="U0000001", k=10),
             gateway.RecommendRequest(user_id="new", k=5, filters=common_pb2.Filters(categories=["Books"],
                                                                                      max_price=50))],
            gateway.RecommendRequest),
        ("gateway", "/recsys.v1.RecommendationService/GetProduct"): (
            [gateway.GetProductRequest(item_id=items[0])], gateway.GetProductRequest),
        ("gateway", "/recsys.v1.RecommendationService/ListUserInteractions"): (
            [gateway.ListUserInteractionsRequest(user_id="U0000001", limit=5)], gateway.ListUserInteractionsRequest),
        ("gateway", "/recsys.v1.RecommendationService/ListModels"): (
            [gateway.ListModelsRequest(include_archived=True)], gateway.ListModelsRequest),
        ("gateway", "/recsys.v1.RecommendationService/GetSystemInfo"): (
            [gateway.GetSystemInfoRequest()], gateway.GetSystemInfoRequest),
        ("embedding", "/recsys.v1.EmbeddingService/GetUserEmbedding"): (
            [embedding.GetUserEmbeddingRequest(user_id="U0000001")], embedding.GetUserEmbeddingRequest),
        ("embedding", "/recsys.v1.EmbeddingService/RecordInteractions"): (
            [embedding.RecordInteractionsRequest(user_id="fuzz", interactions=[
                common_pb2.Interaction(item_id=items[1], type=CLICK)])], embedding.RecordInteractionsRequest),
        ("embedding", "/recsys.v1.EmbeddingService/BatchRecordInteractions"): (
            [embedding.BatchRecordInteractionsRequest(users=[embedding.RecordInteractionsRequest(
                user_id="fuzz", interactions=[common_pb2.Interaction(item_id=items[2], type=CLICK)])])],
            embedding.BatchRecordInteractionsRequest),
        ("retrieval", "/recsys.v1.RetrievalService/Retrieve"): (
            [retrieval.RetrieveRequest(user_vector=vector, num_candidates=20)], retrieval.RetrieveRequest),
        ("retrieval", "/recsys.v1.RetrievalService/BatchRetrieve"): (
            [retrieval.BatchRetrieveRequest(requests=[retrieval.RetrieveRequest(user_vector=vector,
                                                                                num_candidates=5)])],
            retrieval.BatchRetrieveRequest),
        ("scoring", "/recsys.v1.ScoringService/Score"): (
            [scoring.ScoreRequest(user_id="U0000001", item_ids=items[:20])], scoring.ScoreRequest),
    }


@pytest.fixture(scope="module")
def server(publish, tmp_path_factory) -> Iterator[tuple[dict[str, int], str, Path, list[str]]]:
    lightgcn, neumf = publish("lightgcn", "fuzz-v1"), publish("neumf", "fuzz-ncf-v1")
    root = tmp_path_factory.mktemp("fuzz")
    # connection ageing (30 s by default) ends a connection with calls still queued as UNAVAILABLE,
    # which a client retries; it has its own tests, and here it would blur the exact counts
    process, ports, log = start_serve_all(lightgcn, neumf, root,
                                          extra_env={"RECSYS_MAX_CONNECTION_AGE_SECONDS": "86400"})
    try:
        status = wait_until_serving(f"127.0.0.1:{ports['gateway']}", timeout_s=180)
        assert status == health_pb2.HealthCheckResponse.SERVING, log.read_text()[-3000:]
        yield ports, f"http://127.0.0.1:{ports['metrics']}/metrics", log, json.loads(
            (lightgcn / "item_ids.json").read_text())
    finally:
        process.terminate()
        process.wait(30)


def _calls(metrics_url: str) -> Counter:
    """recsys_rpc_total by (service, method), summed over codes."""
    totals: Counter = Counter()
    for line in urllib.request.urlopen(metrics_url, timeout=10).read().decode().splitlines():
        if line.startswith("recsys_rpc_total{"):
            labels = dict(part.split("=", 1) for part in line[line.index("{") + 1:line.index("}")].split(","))
            totals[(labels["service"].strip('"'), labels["method"].strip('"'))] += float(line.rsplit(" ", 1)[1])
    return totals


def test_every_rpc_answers_hostile_bodies_with_a_clear_code_and_counts_them(server):
    ports, metrics_url, log, items = server
    codes: dict[str, Counter] = {}
    for seed, ((port, path), (valid, blank)) in enumerate(_rpcs(items).items()):
        service, method = path.strip("/").split("/")
        key = (service.rsplit(".", 1)[1], method)
        before = _calls(metrics_url)[key]  # per method: the gateway's in-process hops count as backend calls
        with grpc.insecure_channel(f"127.0.0.1:{ports[port]}") as channel:
            call = channel.unary_unary(path)  # raw bytes in and out
            tally: Counter = Counter()
            pending = []
            for body in payloads(valid, blank, N, seed):
                pending.append(call.future(body, timeout=30))
                if len(pending) >= IN_FLIGHT:
                    tally.update(_code(future) for future in pending)
                    pending = []
            tally.update(_code(future) for future in pending)
        codes[path] = tally
        bad = {code: count for code, count in tally.items() if code not in ALLOWED}
        assert not bad, f"{path}: {bad} (all: {dict(tally)})\n{log.read_text()[-3000:]}"
        assert tally[grpc.StatusCode.INVALID_ARGUMENT] > 0, f"{path}: nothing was refused: {dict(tally)}"
        expected = N - tally[grpc.StatusCode.RESOURCE_EXHAUSTED]  # refused by gRPC before any handler
        # an aborted call's status reaches the caller a moment before the server's counter moves
        counted = _counted(metrics_url, key, before, expected)
        assert counted == expected, f"{path}: counted {counted} of {expected} calls ({dict(tally)})"
    for port in ("gateway", "retrieval", "scoring", "embedding"):
        assert wait_until_serving(f"127.0.0.1:{ports[port]}", timeout_s=10) == health_pb2.HealthCheckResponse.SERVING
    text = log.read_text()
    assert "Traceback" not in text and len(text.splitlines()) < 200, text[-3000:]
    for path, tally in codes.items():
        print(path.rsplit("/", 1)[1], {code.name: count for code, count in tally.items()})


def _counted(metrics_url: str, key: tuple[str, str], before: float, at_least: int) -> float:
    """The calls counted since ``before``, once at least ``at_least`` are (or after 30 s)."""
    deadline = time.monotonic() + 30
    while True:
        counted = _calls(metrics_url)[key] - before
        if counted >= at_least or time.monotonic() > deadline:
            return counted
        time.sleep(0.2)


def _code(future: grpc.Future) -> grpc.StatusCode:
    try:
        future.result()
        return grpc.StatusCode.OK
    except grpc.RpcError as error:
        return error.code()
