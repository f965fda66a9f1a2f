"""The gateway over real backends on loopback: round trips, bad input, cold users, and degraded
answers when a backend is down."""

from __future__ import annotations

import asyncio
import json
import time

import grpc
import numpy as np
import pytest
from servers import ServerThread

from models.loaded import load_model
from recsys.v1 import common_pb2
from recsys.v1 import recommendation_service_pb2 as pb
from recsys.v1 import recommendation_service_pb2_grpc as pb_grpc
from services.common.settings import ServiceSettings
from services.embedding.main import build_server as build_embedding
from services.embedding.store import EmbeddingModel
from services.gateway.catalogue import MAX_KEPT_ITEMS_PER_PRODUCT, Catalogue
from services.gateway.main import build_server as build_gateway
from services.gateway.settings import GatewaySettings
from services.gateway.split import watch_split
from services.retrieval.main import build_server as build_retrieval
from services.retrieval.main import load_index
from services.scoring.main import build_server as build_scoring
from services.scoring.main import load_scorer

DEAD = "127.0.0.1:1"  # nothing listens there: calls fail at once with UNAVAILABLE


@pytest.fixture(scope="module")
def artifacts(publish):
    return {"lightgcn": publish("lightgcn", "lightgcn-v1"), "neumf": publish("neumf", "neumf-v1")}


def _start_backends(artifacts):
    def settings(service, artifact):
        return ServiceSettings.from_env(service, {"RECSYS_ARTIFACT": str(artifact), "RECSYS_HOST": "127.0.0.1",
                                                  "RECSYS_PORT": "0"})
    started = {}
    for name, build, artifact, load in (
            ("embedding", build_embedding, artifacts["lightgcn"], lambda s, a: s.load(EmbeddingModel.from_artifact(a))),
            ("retrieval", build_retrieval, artifacts["lightgcn"], lambda s, a: s.load(*load_index(a))),
            ("scoring", build_scoring, artifacts["neumf"], lambda s, a: s.load(load_scorer(a)))):
        server, servicer = build(settings(name, artifact))
        load(servicer, artifact)
        thread = ServerThread(server)
        thread.call(server.mark_serving())
        started[name] = thread
    return started


@pytest.fixture(scope="module")
def backends(artifacts):
    started = _start_backends(artifacts)
    yield {name: f"127.0.0.1:{thread.port}" for name, thread in started.items()}
    for thread in started.values():
        thread.close()


def _gateway(artifacts, addresses, **extra_env):
    settings = GatewaySettings.from_env({
        "RECSYS_ARTIFACT": str(artifacts["lightgcn"]), "RECSYS_HOST": "127.0.0.1", "RECSYS_PORT": "0",
        "RECSYS_EMBEDDING_ADDR": addresses["embedding"], "RECSYS_RETRIEVAL_ADDR": addresses["retrieval"],
        "RECSYS_SCORING_ADDR": addresses["scoring"], "RECSYS_MAX_K": "50", "RECSYS_CANDIDATES": "100",
        "RECSYS_DEADLINE_MS": "2000", **extra_env})
    server, servicer = build_gateway(settings)
    servicer.load(Catalogue.from_artifact(artifacts["lightgcn"]))
    thread = ServerThread(server)
    thread.call(server.mark_serving())
    return thread, pb_grpc.RecommendationServiceStub(thread.channel)


@pytest.fixture(scope="module")
def gateway_thread(artifacts, backends):
    thread, stub = _gateway(artifacts, backends)
    yield thread, stub
    thread.close()


@pytest.fixture(scope="module")
def gateway(gateway_thread):
    return gateway_thread[1]


@pytest.fixture(scope="module")
def gateway_address(gateway_thread):
    return f"127.0.0.1:{gateway_thread[0].port}"


def test_recommend_round_trip(gateway, artifacts, small_dataset):
    model = load_model(artifacts["lightgcn"])
    user = model.user_ids[10]
    response = gateway.Recommend(pb.RecommendRequest(user_id=user, k=10), timeout=10)
    items = [item.item_id for item in response.items]
    assert len(items) == 10 == len(set(items))
    assert not set(items) & {model.item_ids[i] for i in model.seen_items(user)}
    assert response.mode == common_pb2.SERVING_MODE_FULL and not response.degraded_reasons
    assert all(item.model_version == "lightgcn-v1" and item.reason and item.product.title for item in response.items)
    scores = [item.score for item in response.items]
    assert scores == sorted(scores, reverse=True) and response.request_id


def test_filters_are_honoured(gateway, artifacts):
    catalogue = Catalogue.from_artifact(artifacts["lightgcn"])
    category = next(iter(catalogue.attributes.by_category))
    request = pb.RecommendRequest(user_id="U0000003", k=5, filters=common_pb2.Filters(categories=[category],
                                                                                       max_price=500))
    for item in gateway.Recommend(request, timeout=10).items:
        assert category in [c.lower() for c in item.product.categories] and item.product.price <= 500


def test_unknown_user_gets_cold_start_not_an_error(gateway):
    response = gateway.Recommend(pb.RecommendRequest(user_id="someone-new", k=5), timeout=10)
    assert len(response.items) == 5 and response.mode == common_pb2.SERVING_MODE_FULL
    assert all(item.reason == "popular with shoppers" for item in response.items)


@pytest.mark.parametrize("kwargs,message", [
    ({"user_id": "U0000001", "k": 0}, "k must be in 1..50"),
    ({"user_id": "U0000001", "k": 51}, "k must be in 1..50"),
    ({"user_id": "", "k": 5}, "user_id must not be empty"),
    ({"user_id": "x" * 300, "k": 5}, "at most 128 characters"),
    ({"user_id": "U0000001", "k": 5, "filters": common_pb2.Filters(min_price=9, max_price=1)}, "above max_price"),
    ({"user_id": "U0000001", "k": 5, "filters": common_pb2.Filters(min_price=-1)}, "non-negative"),
])
def test_bad_input_is_invalid_argument(gateway, kwargs, message):
    with pytest.raises(grpc.RpcError) as error:
        gateway.Recommend(pb.RecommendRequest(**kwargs), timeout=10)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT and message in error.value.details()


def test_undecodable_bodies_and_unknown_paths_get_clear_codes_and_are_counted(gateway_thread, caplog):
    from services.common.metrics import RPC_TOTAL

    def total(service, method, code):
        return RPC_TOTAL.labels(service, method, code)._value.get()

    thread, _ = gateway_thread
    # a method no other test sends bad requests to: their late-counted calls cannot land in this count
    raw = thread.channel.unary_unary("/recsys.v1.RecommendationService/GetSystemInfo")
    before = total("RecommendationService", "GetSystemInfo", "INVALID_ARGUMENT")
    for _ in range(20):
        with pytest.raises(grpc.RpcError) as error:
            raw(b"\xff\xff\xff\xff not a message", timeout=5)
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "not a valid message for /recsys.v1.RecommendationService/GetSystemInfo" in error.value.details()
    # the server counts a call after its answer has left: wait for the last one
    assert _eventually(lambda: total("RecommendationService", "GetSystemInfo", "INVALID_ARGUMENT") == before + 20)
    assert sum("not the method's message" in r.getMessage() for r in caplog.records) <= 1  # not one per call
    unknown_before = total("unknown", "unknown", "UNIMPLEMENTED")
    for path in ("/a/b/c", "/x", "/recsys.v1.RecommendationService/NoSuchMethod"):
        with pytest.raises(grpc.RpcError) as error:
            thread.channel.unary_unary(path)(b"", timeout=5)
        assert error.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert _eventually(lambda: total("unknown", "unknown", "UNIMPLEMENTED") == unknown_before + 3)


def _eventually(check, timeout_s: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_control_characters_in_ids_are_invalid_argument_before_any_query(gateway):
    for call, request in ((gateway.ListUserInteractions, pb.ListUserInteractionsRequest(user_id="u\x00'; --")),
                          (gateway.GetProduct, pb.GetProductRequest(item_id="p\r\n"))):
        with pytest.raises(grpc.RpcError) as error:
            call(request, timeout=5)
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "control characters" in error.value.details() and "SELECT" not in error.value.details()


def test_get_product_and_not_found(gateway, artifacts):
    item = load_model(artifacts["lightgcn"]).item_ids[0]
    assert gateway.GetProduct(pb.GetProductRequest(item_id=item), timeout=5).product.item_id == item
    with pytest.raises(grpc.RpcError) as error:
        gateway.GetProduct(pb.GetProductRequest(item_id="no-such-product"), timeout=5)
    assert error.value.code() == grpc.StatusCode.NOT_FOUND and "no-such-product" in error.value.details()


def test_response_items_are_kept_per_item_version_and_reason_and_bounded(artifacts):
    catalogue = Catalogue.from_artifact(artifacts["lightgcn"])
    item = catalogue.item_ids[0]
    kept = catalogue.recommended_item(item, "v1", "popular")
    assert (kept.item_id, kept.model_version, kept.reason, kept.score) == (item, "v1", "popular", 0.0)
    assert kept.product == catalogue.product(item) and catalogue.recommended_item(item, "v1", "popular") is kept
    assert catalogue.recommended_item(item, "v2", "popular") is not kept
    assert not catalogue.recommended_item("no-such-product", "v1", "popular").HasField("product")
    for version in range(MAX_KEPT_ITEMS_PER_PRODUCT * len(catalogue.products) + 1):  # versions without end
        catalogue.recommended_item(item, f"v{version}", "popular")
    assert len(catalogue._items) <= MAX_KEPT_ITEMS_PER_PRODUCT * len(catalogue.products)


def test_models_and_system_info(gateway, backends):
    """Without a store, ListModels describes the served version from its artifact."""
    [model] = gateway.ListModels(pb.ListModelsRequest(), timeout=5).models
    assert (model.name, model.version, model.type, model.traffic_weight, model.stage) == \
        ("default", "lightgcn-v1", "lightgcn", 1.0, pb.MODEL_STAGE_UNSPECIFIED)
    assert model.metrics and model.created_at.seconds > 0 and model.loaded_at.seconds >= model.created_at.seconds
    info = gateway.GetSystemInfo(pb.GetSystemInfoRequest(), timeout=5)
    assert info.items > 0 and info.version and not info.backends  # no internal addresses by default


def test_system_info_lists_the_backends_only_when_switched_on(artifacts, backends):
    thread, stub = _gateway(artifacts, backends, RECSYS_SYSTEM_INFO_BACKENDS="on")
    try:
        info = stub.GetSystemInfo(pb.GetSystemInfoRequest(), timeout=5)
        assert info.backends["default/retrieval"] == backends["retrieval"]
    finally:
        thread.close()


def test_models_come_from_the_registry(artifacts, backends, tmp_path):
    """With a store, ListModels answers from the model registry: stage, metrics, creation time."""
    from store import repository
    from store.db import make_engine, upgrade
    from store.tables import ModelStage

    url = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade(url)
    engine = make_engine(url)
    with engine.begin() as connection:
        repository.register_model_version(connection, "shop", "lightgcn-v0", "lightgcn", "/a/v0", {"recall@20": 0.1},
                                          ModelStage.ARCHIVED)
        repository.register_model_version(connection, "shop", "lightgcn-v1", "lightgcn", "/a/v1", {"recall@20": 0.2},
                                          ModelStage.PRODUCTION)
    engine.dispose()
    thread, stub = _gateway(artifacts, backends, RECSYS_DATABASE_URL=url)
    try:
        models = stub.ListModels(pb.ListModelsRequest(), timeout=5).models
        assert [(m.name, m.version, m.stage, m.artifact_uri, dict(m.metrics), m.traffic_weight) for m in models] == \
            [("shop", "lightgcn-v1", pb.MODEL_STAGE_PRODUCTION, "/a/v1", {"recall@20": 0.2}, 1.0)]
        assert models[0].created_at.seconds > 0 and models[0].loaded_at.seconds > 0
        everything = stub.ListModels(pb.ListModelsRequest(include_archived=True), timeout=5).models
        assert {m.version for m in everything if m.name == "shop"} == {"lightgcn-v0", "lightgcn-v1"}
    finally:
        thread.close()


@pytest.mark.parametrize("dead,mode,reason", [
    ("scoring", common_pb2.SERVING_MODE_RETRIEVAL_ORDER, "scoring: UNAVAILABLE"),
    ("embedding", common_pb2.SERVING_MODE_POPULARITY, "embedding: UNAVAILABLE"),
    ("retrieval", common_pb2.SERVING_MODE_POPULARITY, "retrieval: UNAVAILABLE"),
])
def test_a_dead_backend_degrades_the_answer(artifacts, backends, dead, mode, reason):
    thread, stub = _gateway(artifacts, {**backends, dead: DEAD})
    try:
        response = stub.Recommend(pb.RecommendRequest(user_id="U0000010", k=8), timeout=10)
    finally:
        thread.close()
    assert len(response.items) == 8 and response.mode == mode and reason in response.degraded_reasons


def test_metrics_count_calls_codes_and_fallbacks(gateway, artifacts, backends):
    import time
    import urllib.request

    from prometheus_client import REGISTRY

    from telemetry.setup import start_metrics_server

    def value(name, **labels):
        return REGISTRY.get_sample_value(name, labels) or 0.0

    def settled(expected, name, **labels):
        # the server records a call after the client already has its answer: give it a moment
        deadline = time.time() + 5
        while value(name, **labels) != expected and time.time() < deadline:
            time.sleep(0.01)
        return value(name, **labels)

    ok_before = value("recsys_rpc_total", service="RecommendationService", method="Recommend", code="OK")
    bad_before = value("recsys_rpc_total", service="RecommendationService", method="Recommend",
                       code="INVALID_ARGUMENT")
    gateway.Recommend(pb.RecommendRequest(user_id="U0000001", k=3), timeout=10)
    with pytest.raises(grpc.RpcError):
        gateway.Recommend(pb.RecommendRequest(user_id="U0000001", k=0), timeout=10)
    assert settled(ok_before + 1, "recsys_rpc_total", service="RecommendationService", method="Recommend",
                   code="OK") == ok_before + 1
    assert settled(bad_before + 1, "recsys_rpc_total", service="RecommendationService", method="Recommend",
                   code="INVALID_ARGUMENT") == bad_before + 1
    assert value("recsys_rpc_duration_seconds_count", service="RetrievalService", method="Retrieve", code="OK") > 0
    fallbacks_before = value("recsys_gateway_fallbacks_total", hop="scoring")
    thread, degraded = _gateway(artifacts, {**backends, "scoring": DEAD})
    try:
        degraded.Recommend(pb.RecommendRequest(user_id="U0000001", k=3), timeout=10)
    finally:
        thread.close()
    assert value("recsys_gateway_fallbacks_total", hop="scoring") == fallbacks_before + 1
    assert value("recsys_model_info", service="gateway", version="lightgcn-v1") == 1
    port = start_metrics_server(0, "127.0.0.1")
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    for name in ("recsys_rpc_duration_seconds_bucket", "recsys_rpc_total", "recsys_gateway_mode_total",
                 "recsys_retrieval_candidates_bucket", "recsys_model_info"):
        assert name in text, name


@pytest.mark.parametrize("mode", [{"concurrency": 4, "rate": None}, {"concurrency": None, "rate": 40.0}])
def test_loadtest_reports_throughput_latency_and_coverage(gateway_address, tmp_path, mode):
    import asyncio
    import json

    from cli.loadtest import run_load, write_result

    result = asyncio.run(run_load(gateway_address, duration_s=1.0, warmup_s=0.2, users=500, **mode))
    assert result.ok > 10 and result.errors == {} and result.requests == result.ok
    assert 0 < result.p50_ms <= result.p95_ms <= result.p99_ms
    assert 0 < result.coverage <= 1 and result.catalogue_items > 0
    assert result.serving_modes.get("FULL", 0) == result.ok
    write_result(result, tmp_path / "load.json")
    assert json.loads((tmp_path / "load.json").read_text())["ok"] == result.ok


def test_one_recommend_is_one_trace_across_the_services(gateway):
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from services.common.tracing import configure_tracing

    exporter = InMemorySpanExporter()
    configure_tracing("test", exporter=exporter, synchronous=True)
    gateway.Recommend(pb.RecommendRequest(user_id="U0000002", k=5), timeout=10)
    spans = {span.name: span for span in exporter.get_finished_spans()}
    root = spans["recsys.v1.RecommendationService/Recommend"]
    for child in ("recsys.v1.EmbeddingService/GetUserEmbedding", "recsys.v1.RetrievalService/Retrieve",
                  "recsys.v1.ScoringService/Score"):
        assert spans[child].parent is not None and spans[child].parent.span_id == root.context.span_id, child
        assert spans[child].context.trace_id == root.context.trace_id
    assert root.parent is None


@pytest.fixture(scope="module")
def backends_v2(artifacts, tmp_path_factory):
    """A second backend set serving the same model published as version lightgcn-v2."""
    import shutil

    v2 = tmp_path_factory.mktemp("lightgcn-v2")
    shutil.copytree(artifacts["lightgcn"], v2, dirs_exist_ok=True)
    manifest = json.loads((v2 / "manifest.json").read_text())
    manifest["version"] = "lightgcn-v2"
    (v2 / "manifest.json").write_text(json.dumps(manifest))
    started = _start_backends({"lightgcn": v2, "neumf": artifacts["neumf"]})
    yield {name: f"127.0.0.1:{thread.port}" for name, thread in started.items()}
    for thread in started.values():
        thread.close()


def _write_split(path, weights, addresses):
    routes = [{"name": name, "weight": weight, **addresses[name]} for name, weight in weights.items()]
    path.write_text(json.dumps({"routes": routes}))


def test_traffic_split_proportions_stickiness_and_runtime_change(artifacts, backends, backends_v2, tmp_path):
    import time

    addresses = {"v1": backends, "v2": backends_v2}
    split_file = tmp_path / "split.json"
    _write_split(split_file, {"v1": 0.8, "v2": 0.2}, addresses)
    settings = GatewaySettings.from_env({
        "RECSYS_ARTIFACT": str(artifacts["lightgcn"]), "RECSYS_HOST": "127.0.0.1", "RECSYS_PORT": "0",
        "RECSYS_TRAFFIC_SPLIT": str(split_file), "RECSYS_DEADLINE_MS": "2000"})
    server, servicer = build_gateway(settings)
    servicer.load(Catalogue.from_artifact(artifacts["lightgcn"]))
    thread = ServerThread(server)
    thread.call(server.mark_serving())
    watcher = asyncio.run_coroutine_threadsafe(watch_split(split_file, servicer.set_split, 0.05), thread.loop)
    stub = pb_grpc.RecommendationServiceStub(thread.channel)
    try:
        def versions(users):
            return [stub.Recommend(pb.RecommendRequest(user_id=u, k=3), timeout=10).model_version for u in users]

        users = [f"U{i:07d}" for i in range(400)]
        first = versions(users)
        share_v2 = first.count("lightgcn-v2") / len(first)
        assert 0.14 < share_v2 < 0.26, share_v2
        assert versions(users[:50]) == first[:50]  # sticky per user
        forced = stub.Recommend(pb.RecommendRequest(user_id=users[0], k=3, model_version="v2"), timeout=10)
        assert forced.model_version == "lightgcn-v2"
        with pytest.raises(grpc.RpcError) as error:
            stub.Recommend(pb.RecommendRequest(user_id=users[0], k=3, model_version="v9"), timeout=10)
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "serving v1, v2" in error.value.details()

        time.sleep(0.05)  # let the file's modification time move on
        _write_split(split_file, {"v1": 0.0, "v2": 1.0}, addresses)  # promote, without a restart
        deadline = time.time() + 10
        while time.time() < deadline and set(versions(users[:20])) != {"lightgcn-v2"}:
            time.sleep(0.05)
        assert set(versions(users[:100])) == {"lightgcn-v2"}
        weights = {m.name: m.traffic_weight for m in stub.ListModels(pb.ListModelsRequest(), timeout=5).models}
        assert weights == {"v1": 0.0, "v2": 1.0}

        split_file.write_text("{not json")  # a broken update is ignored; the last good split stays
        time.sleep(0.3)
        assert set(versions(users[:20])) == {"lightgcn-v2"}
    finally:
        watcher.cancel()
        thread.close()


def test_split_file_errors_are_clear(tmp_path):
    from core.errors import SettingsError
    from core.traffic_split import load_split

    bad = tmp_path / "split.json"
    bad.write_text(json.dumps({"routes": [{"name": "a", "weight": -1, "embedding": "x", "retrieval": "y",
                                           "scoring": "z"}]}))
    with pytest.raises(SettingsError, match="weights must be >= 0"):
        load_split(bad)
    bad.write_text(json.dumps({"routes": [{"name": "a"}]}))
    with pytest.raises(SettingsError, match="expected"):
        load_split(bad)
    with pytest.raises(SettingsError, match="does not exist"):
        load_split(tmp_path / "missing.json")


def _local_gateway(artifacts):
    """The same gateway with serve all's in-process backends (LocalHops), freshly loaded."""
    from cli.local_backends import LocalHops
    from core.traffic_split import TrafficSplit
    from services.embedding.users import UserEmbeddings
    from services.gateway.servicer import RecommendationServicer
    from services.retrieval.retriever import Retriever
    from services.scoring.scorer import Scorer

    embedding, retrieval, scoring = UserEmbeddings(), Retriever(), Scorer()
    embedding.load(EmbeddingModel.from_artifact(artifacts["lightgcn"]))
    retrieval.load(*load_index(artifacts["lightgcn"]))
    scoring.load(load_scorer(artifacts["neumf"]))
    settings = GatewaySettings.from_env({"RECSYS_ARTIFACT": str(artifacts["lightgcn"]), "RECSYS_MAX_K": "50",
                                         "RECSYS_CANDIDATES": "100", "RECSYS_DEADLINE_MS": "2000"})
    gateway = RecommendationServicer(settings, TrafficSplit.single("default", "-", "-", "-"))
    gateway.use_local_backends("default", LocalHops(embedding, retrieval, scoring))
    gateway.load(Catalogue.from_artifact(artifacts["lightgcn"]))
    return gateway


def test_in_process_backends_answer_exactly_like_the_grpc_ones(gateway, artifacts):
    model = load_model(artifacts["lightgcn"])
    category = next(iter(Catalogue.from_artifact(artifacts["lightgcn"]).attributes.by_category))
    requests = [pb.RecommendRequest(user_id=user, k=10) for user in model.user_ids[:25]]
    requests += [pb.RecommendRequest(user_id="someone-new", k=7),
                 pb.RecommendRequest(user_id=model.user_ids[3], k=5,
                                     filters=common_pb2.Filters(categories=[category], max_price=400,
                                                                exclude_item_ids=model.item_ids[:20]))]
    over_grpc = [gateway.Recommend(request, timeout=10) for request in requests]
    local = _local_gateway(artifacts)

    async def answer_all():
        return await asyncio.gather(*(local.Recommend(request, None) for request in requests))

    for remote, here in zip(over_grpc, asyncio.run(answer_all())):
        assert [i.item_id for i in here.items] == [i.item_id for i in remote.items]
        assert [i.score for i in here.items] == pytest.approx([i.score for i in remote.items], rel=1e-5)
        assert (here.mode, here.model_version, [i.reason for i in here.items]) == \
            (remote.mode, remote.model_version, [i.reason for i in remote.items])


def test_local_scoring_of_candidate_positions_matches_scoring_by_id(artifacts):
    from services.scoring.scorer import Scorer

    scoring = Scorer()
    scoring.load(load_scorer(artifacts["neumf"]))
    item_ids = load_model(artifacts["lightgcn"]).item_ids[::-1] + ["not-in-the-scoring-model"]
    positions = np.array([len(item_ids) - 1, 0, 5, 17], dtype=np.int64)
    user = load_model(artifacts["neumf"]).user_ids[4]

    async def both():
        return (await scoring.score_candidates(user, item_ids, positions),
                await scoring.score_ids(user, [item_ids[p] for p in positions]))

    by_position, by_id = asyncio.run(both())
    assert np.isnan(by_position.scores[0]) and np.isnan(by_id.scores[0])
    assert np.allclose(by_position.scores[1:], by_id.scores[1:]) and by_position.user_known


def test_precomputed_candidates_change_no_answer(artifacts):
    """Known users are answered from the artifact's precomputed candidates; the same gateway with
    them switched off scans every item: the answers must be the same."""
    from services.common.metrics import RETRIEVAL_ANSWERS

    model = load_model(artifacts["lightgcn"])
    category = next(iter(Catalogue.from_artifact(artifacts["lightgcn"]).attributes.by_category))
    requests = [pb.RecommendRequest(user_id=user, k=10) for user in model.user_ids[:40]]
    requests += [pb.RecommendRequest(user_id=user, k=5, filters=common_pb2.Filters(
        categories=[category], exclude_item_ids=model.item_ids[:10])) for user in model.user_ids[40:50]]
    with_rows, scanning = _local_gateway(artifacts), _local_gateway(artifacts)
    scanning.hops_for(scanning.split.routes[0])._retrieval.index.precomputed = None
    looked_up = RETRIEVAL_ANSWERS.labels(answered_by="precomputed")._value.get()

    async def answer_all(gateway):
        return [await gateway.Recommend(request, None) for request in requests]

    for fast, slow in zip(asyncio.run(answer_all(with_rows)), asyncio.run(answer_all(scanning))):
        assert [i.item_id for i in fast.items] == [i.item_id for i in slow.items]
        assert [i.score for i in fast.items] == pytest.approx([i.score for i in slow.items], rel=1e-5)
    assert RETRIEVAL_ANSWERS.labels(answered_by="precomputed")._value.get() - looked_up >= 40
