"""Events change recommendations: Kafka -> stream processor -> PostgreSQL, and Kafka -> the
embedding service's own reader -> the next Recommend, all real processes (`recsys serve all`,
`recsys stream`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid

import grpc
import pytest
from grpc_health.v1 import health_pb2
from servers import wait_until_serving
from stack_fixtures import new_database, new_topics
from stream_helpers import StreamProcess, wait_for_rows

from events.codec import make_event
from events.kafka_bus import KafkaPublisher
from recsys.v1 import recommendation_service_pb2 as pb
from recsys.v1 import recommendation_service_pb2_grpc as pb_grpc
from stack.process import free_port
from store import repository
from store.db import make_engine


@pytest.fixture(scope="module")
def system(publish, postgres_server, kafka_broker, tmp_path_factory):
    pg_url, topics, tmp_path = new_database(postgres_server), new_topics(kafka_broker), tmp_path_factory.mktemp("e2e")
    lightgcn, neumf = publish("lightgcn", "lightgcn-live"), publish("neumf", "neumf-live")
    engine = make_engine(pg_url)
    with engine.begin() as connection:
        items = json.loads((lightgcn / "item_ids.json").read_text())
        repository.upsert_products(connection, [{"item_id": i, "categories": [], "attributes": {}} for i in items])
    engine.dispose()
    ports = {service: free_port() for service in ("gateway", "retrieval", "scoring", "embedding", "http")}
    serve_env = {**os.environ, "RECSYS_ARTIFACT": str(lightgcn), "RECSYS_SCORING_ARTIFACT": str(neumf),
                 "RECSYS_HOST": "127.0.0.1", "RECSYS_METRICS_PORT": "0", "RECSYS_DATABASE_URL": pg_url,
                 "RECSYS_KAFKA_BOOTSTRAP": kafka_broker.bootstrap, "RECSYS_EVENTS_TOPIC": topics.events,
                 **{f"RECSYS_{name.upper()}_PORT": str(port) for name, port in ports.items()}}
    with open(tmp_path / "serve.log", "wb") as log:
        server = subprocess.Popen([sys.executable, "-m", "cli.main", "serve", "all"], env=serve_env,
                                  stdout=log, stderr=subprocess.STDOUT)
    stream = StreamProcess({
        "RECSYS_KAFKA_BOOTSTRAP": kafka_broker.bootstrap, "RECSYS_DATABASE_URL": pg_url,
        "RECSYS_EVENTS_TOPIC": topics.events, "RECSYS_DLQ_TOPIC": topics.dead_letter,
        "RECSYS_ONLINE_METRICS_TOPIC": topics.online_metrics, "RECSYS_STREAM_GROUP": f"g-{uuid.uuid4().hex[:6]}",
        "RECSYS_METRICS_PORT": "0"},
        tmp_path / "stream.log").start()
    gateway = f"127.0.0.1:{ports['gateway']}"
    try:
        assert wait_until_serving(gateway) == health_pb2.HealthCheckResponse.SERVING
        channel = grpc.insecure_channel(gateway)
        yield pb_grpc.RecommendationServiceStub(channel), KafkaPublisher(kafka_broker.bootstrap), topics, pg_url
        channel.close()
    finally:
        stream.stop()
        server.terminate()
        server.wait(30)


def _until(check, timeout_s=20.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("the recommendations never reflected the events")


def test_a_purchase_removes_the_item_and_history_shows_it(system):
    gateway, publisher, topics, url = system
    user = "U0000005"
    top = gateway.Recommend(pb.RecommendRequest(user_id=user, k=10), timeout=10).items[0].item_id
    event = make_event(user, top, "purchase", model_version="lightgcn-live")
    publisher.publish(topics.events, user.encode(), event.SerializeToString())
    publisher.flush(10)
    _until(lambda: top not in [i.item_id for i in gateway.Recommend(pb.RecommendRequest(user_id=user, k=10),
                                                                     timeout=10).items])
    wait_for_rows(url, 1, 10)
    history = gateway.ListUserInteractions(pb.ListUserInteractionsRequest(user_id=user, limit=5), timeout=10)
    assert history.interactions[0].item_id == top
    assert abs(history.interactions[0].time.ToSeconds() - event.time.ToSeconds()) <= 1


def test_a_new_users_clicks_turn_popularity_into_personal_recommendations(system):
    gateway, publisher, topics, _ = system
    user = f"brand-new-{uuid.uuid4().hex[:6]}"
    cold = gateway.Recommend(pb.RecommendRequest(user_id=user, k=5), timeout=10)
    assert "popular" in cold.items[0].reason
    assert gateway.ListUserInteractions(pb.ListUserInteractionsRequest(user_id=user), timeout=10).interactions == []
    clicked = [item.item_id for item in cold.items[:3]]
    for item in clicked:
        publisher.publish(topics.events, user.encode(), make_event(user, item, "click").SerializeToString())
    publisher.flush(10)
    warm = _until(lambda: (r := gateway.Recommend(pb.RecommendRequest(user_id=user, k=5), timeout=10))
                  and "for you" in r.items[0].reason and r)
    assert not set(clicked) & {i.item_id for i in warm.items}


def test_list_user_interactions_rejects_bad_limits(system):
    gateway = system[0]
    for limit, message in ((-1, "negative"), (5000, "at most")):
        with pytest.raises(grpc.RpcError) as info:
            gateway.ListUserInteractions(pb.ListUserInteractionsRequest(user_id="u", limit=limit), timeout=10)
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT and message in info.value.details()
    with pytest.raises(grpc.RpcError) as info:
        gateway.ListUserInteractions(pb.ListUserInteractionsRequest(user_id=""), timeout=10)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
