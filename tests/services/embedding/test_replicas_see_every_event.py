"""Replicas as separate processes on loopback, with a real Kafka broker: every `recsys serve
embedding` replica reads the events topic itself, so one click changes the user's vector on all of
them; a replica started later catches up before it says SERVING; balanced calls reach every replica
(counted from each replica's own /metrics)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2
from servers import eventually, wait_until_serving
from stack_fixtures import new_topics

from events.bus import Topics
from events.codec import make_event
from events.kafka_bus import KafkaPublisher, ensure_topics
from recsys.v1 import embedding_service_pb2 as pb
from recsys.v1 import embedding_service_pb2_grpc as pb_grpc
from services.common.channels import channel_options
from stack.process import free_port


class Replica:
    def __init__(self, artifact: Path, bootstrap: str, topic: str, log: Path) -> None:
        self.port, self.metrics_port = free_port(), free_port()
        env = {**os.environ, "RECSYS_ARTIFACT": str(artifact), "RECSYS_HOST": "127.0.0.1",
               "RECSYS_PORT": str(self.port), "RECSYS_METRICS_PORT": str(self.metrics_port),
               "RECSYS_KAFKA_BOOTSTRAP": bootstrap, "RECSYS_EVENTS_TOPIC": topic, "RECSYS_RELOAD_SECONDS": "0"}
        with open(log, "wb") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "cli.main", "serve", "embedding"], env=env,
                                            stdout=out, stderr=subprocess.STDOUT)
        self.log = log
        self.address = f"127.0.0.1:{self.port}"

    def wait_serving(self) -> None:
        status = wait_until_serving(self.address, timeout_s=120)
        assert status == health_pb2.HealthCheckResponse.SERVING, self.log.read_text()[-3000:]
        self.channel = grpc.insecure_channel(self.address)
        self.stub = pb_grpc.EmbeddingServiceStub(self.channel)

    def state(self, user: str) -> pb.GetUserEmbeddingResponse:
        return self.stub.GetUserEmbedding(pb.GetUserEmbeddingRequest(user_id=user), timeout=10)

    def calls(self, method: str) -> float:
        text = urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=10).read().decode()
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                   if line.startswith("recsys_rpc_total{") and f'method="{method}"' in line and 'code="OK"' in line)

    def stop(self) -> None:
        if hasattr(self, "channel"):
            self.channel.close()
        self.process.terminate()
        self.process.wait(30)


@pytest.fixture(scope="module")
def cluster(publish, kafka_broker, tmp_path_factory) -> Iterator[tuple]:
    artifact = publish("lightgcn", "replicas-v1")
    topic = new_topics(kafka_broker).events
    logs = tmp_path_factory.mktemp("replicas")
    replicas = [Replica(artifact, kafka_broker.bootstrap, topic, logs / f"replica-{n}.log") for n in range(2)]
    publisher = KafkaPublisher(kafka_broker.bootstrap, **{"linger.ms": 0})
    try:
        for replica in replicas:
            replica.wait_serving()
        yield replicas, artifact, publisher, topic, logs, kafka_broker.bootstrap
    finally:
        publisher.close()
        for replica in replicas:
            replica.stop()


def _click(publisher: KafkaPublisher, topic: str, user: str, item: str) -> None:
    publisher.publish(topic, user.encode(), make_event(user, item, "click").SerializeToString())
    publisher.flush(10)


def _folded_in(replica: Replica, user: str) -> pb.GetUserEmbeddingResponse:
    return eventually(lambda: (state := replica.state(user)).folded_in and state, 60,
                      f"{user}'s click folded in on {replica.address}", interval_s=0.05)


def test_a_click_changes_the_users_vector_on_every_replica(cluster):
    replicas, artifact, publisher, topic, *_ = cluster
    items = json.loads((artifact / "item_ids.json").read_text())
    user = f"new-shopper-{uuid.uuid4().hex[:6]}"
    assert all(not replica.state(user).known for replica in replicas)
    _click(publisher, topic, user, items[3])
    for replica in replicas:
        state = _folded_in(replica, user)
        assert list(state.seen_item_ids) == [items[3]]
    vectors = [list(replica.state(user).vector) for replica in replicas]
    assert vectors[0] == vectors[1]  # the same model and the same interactions: the same answer


def test_a_replica_started_later_has_caught_up_when_it_says_serving(cluster):
    _, artifact, publisher, topic, logs, bootstrap = cluster
    items = json.loads((artifact / "item_ids.json").read_text())
    user = f"earlier-shopper-{uuid.uuid4().hex[:6]}"
    _click(publisher, topic, user, items[5])
    _click(publisher, topic, user, items[8])
    late = Replica(artifact, bootstrap, topic, logs / "late.log")
    try:
        late.wait_serving()
        state = late.state(user)  # no waiting: SERVING means caught up
        assert state.folded_in and sorted(state.seen_item_ids) == sorted([items[5], items[8]])
        assert "caught up with the events topic" in late.log.read_text()
    finally:
        late.stop()


def test_balanced_calls_reach_every_replica(cluster):
    replicas = cluster[0]
    before = [replica.calls("GetUserEmbedding") for replica in replicas]
    target = "ipv4:" + ",".join(replica.address for replica in replicas)
    with grpc.insecure_channel(target, options=channel_options()) as channel:
        stub = pb_grpc.EmbeddingServiceStub(channel)
        for n in range(40):
            stub.GetUserEmbedding(pb.GetUserEmbeddingRequest(user_id=f"U{n:07d}"), timeout=10)
    served = [replica.calls("GetUserEmbedding") - start for replica, start in zip(replicas, before)]
    assert sum(served) == 40 and min(served) >= 10, served


def test_a_replica_whose_topic_does_not_exist_yet_serves_at_once_and_reads_it_later(cluster, kafka_broker):
    _, artifact, publisher, _, logs, bootstrap = cluster
    items = json.loads((artifact / "item_ids.json").read_text())
    topic = f"later-{uuid.uuid4().hex[:6]}.events"
    replica = Replica(artifact, bootstrap, topic, logs / "no-topic.log")
    try:
        started = time.monotonic()
        replica.wait_serving()
        assert time.monotonic() - started < 60  # not the whole catch-up bound (RECSYS_CATCHUP_SECONDS)
        ensure_topics(bootstrap, Topics(topic, topic + ".dlq", topic + ".online"), partitions=2)
        user = f"first-shopper-{uuid.uuid4().hex[:6]}"
        _click(publisher, topic, user, items[2])
        state = _folded_in(replica, user)
        assert list(state.seen_item_ids) == [items[2]]
    finally:
        replica.stop()
