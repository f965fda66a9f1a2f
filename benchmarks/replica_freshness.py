"""Freshness on every replica: from a click produced to Kafka until each of N embedding replicas
(separate `recsys serve embedding` processes, each reading the events topic itself) answers the
user's vector with the click folded in; N = 1 is the reference, measured in the same run.

Everything on this machine's cores: a real Kafka broker (stack/), the replicas, a separate producer
process sending background events at --rate events/s, and the probing client. Catalogue: synthetic
20k users x 10k items (seed 0), LightGCN trained briefly on it and cached; the background events
replay the generator's funnel over the same ids. Each probe is a new user's click; every replica is
asked (GetUserEmbedding) every 5 ms until it reports the item, and the probe's "all replicas" time
is the slowest replica's.

    python -m benchmarks.replica_freshness            # JSON: bench-results/replica_freshness.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import grpc
import numpy as np

from benchmarks.common import REPO, markdown_table, write_json
from events.bus import Topics
from events.codec import make_event
from events.kafka_bus import KafkaPublisher, ensure_topics
from recsys.v1 import embedding_service_pb2 as pb
from recsys.v1 import embedding_service_pb2_grpc as pb_grpc
from stack import KafkaBroker
from stack.process import free_port

USERS, ITEMS = 20_000, 10_000


def lightgcn_artifact(cache: Path) -> Path:
    """LightGCN on the benchmark catalogue, trained once (about a minute on 2 cores) and cached."""
    path = cache / "lightgcn-20k-e5"
    if (path / "manifest.json").exists():
        return path
    from training.artifacts import save_artifact
    from training.config import TrainConfig
    from training.data.sources import DataSpec, open_dataset
    from training.trainer import train

    data = open_dataset(DataSpec(path="synthetic", synthetic_users=USERS, synthetic_items=ITEMS, with_valid=False))
    print(f"catalogue: {data.summary()}", flush=True)
    result = train(data, TrainConfig(model="lightgcn", epochs=5, batch_size=8192, lr=0.01, protocol="sampled"),
                   progress=False, echo=lambda s: print("  " + s, flush=True))
    save_artifact(path, result.model, data, {"config": result.config.to_dict()}, result.test_metrics)
    return path


def start_replicas(count: int, artifact: Path, bootstrap: str, topic: str) -> list[tuple[subprocess.Popen, str]]:
    replicas = []
    for _ in range(count):
        port = free_port()
        env = {**os.environ, "RECSYS_ARTIFACT": str(artifact), "RECSYS_HOST": "127.0.0.1", "RECSYS_PORT": str(port),
               "RECSYS_METRICS_PORT": "0", "RECSYS_KAFKA_BOOTSTRAP": bootstrap, "RECSYS_EVENTS_TOPIC": topic,
               "RECSYS_RELOAD_SECONDS": "0", "RECSYS_LOG_LEVEL": "WARNING"}
        replicas.append((subprocess.Popen([sys.executable, "-m", "cli.main", "serve", "embedding"], env=env),
                         f"127.0.0.1:{port}"))
    for _, address in replicas:
        stub = pb_grpc.EmbeddingServiceStub(grpc.insecure_channel(address))
        deadline = time.monotonic() + 300
        while True:
            try:
                stub.GetUserEmbedding(pb.GetUserEmbeddingRequest(user_id="warm-up"), timeout=2)
                break
            except grpc.RpcError:
                if time.monotonic() > deadline:
                    raise SystemExit(f"replica {address} did not serve within 300 s") from None
                time.sleep(0.2)
    return replicas


def measure(replicas: int, artifact: Path, bootstrap: str, rate: float, probes: int, partitions: int,
            timeout_s: float = 5.0) -> dict[str, object]:
    prefix = f"fresh{uuid.uuid4().hex[:6]}"
    topics = Topics(f"{prefix}.events", f"{prefix}.dlq", f"{prefix}.online")
    ensure_topics(bootstrap, topics, partitions=partitions)
    started = start_replicas(replicas, artifact, bootstrap, topics.events)
    background = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "events", "produce", "--bootstrap", bootstrap, "--rate", str(rate),
         "--count", str(int(rate * 900)), "--users", str(USERS), "--items", str(ITEMS), "--seed", "1"],
        env={**os.environ, "RECSYS_EVENTS_TOPIC": topics.events}, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    channels = [grpc.insecure_channel(address) for _, address in started]
    stubs = [pb_grpc.EmbeddingServiceStub(channel) for channel in channels]
    publisher = KafkaPublisher(bootstrap, **{"linger.ms": 0})
    item_ids = json.loads((artifact / "item_ids.json").read_text())
    rng = np.random.default_rng(replicas)
    first, slowest, misses = [], [], 0
    try:
        time.sleep(8)  # the producer's catalogue generation and its first events
        run = uuid.uuid4().hex[:6]
        for n in range(probes):
            user, item = f"probe-{run}-{n}", item_ids[int(rng.integers(len(item_ids)))]
            sent = time.perf_counter()
            publisher.publish(topics.events, user.encode(), make_event(user, item, "click").SerializeToString())
            publisher.flush(5)
            seen_at: dict[int, float] = {}
            while len(seen_at) < len(stubs) and time.perf_counter() - sent < timeout_s:
                for index, stub in enumerate(stubs):
                    if index not in seen_at:
                        answer = stub.GetUserEmbedding(pb.GetUserEmbeddingRequest(user_id=user), timeout=5)
                        if item in answer.seen_item_ids:
                            seen_at[index] = time.perf_counter() - sent
                time.sleep(0.005)
            if len(seen_at) < len(stubs):
                misses += 1
                continue
            first.append(min(seen_at.values()))
            slowest.append(max(seen_at.values()))
            time.sleep(0.05)
    finally:
        background.terminate()
        background.wait(30)
        publisher.close()
        for channel in channels:
            channel.close()
        for process, _ in started:
            process.terminate()
            process.wait(30)
    one, every = np.array(first) * 1000, np.array(slowest) * 1000
    return {"replicas": replicas, "background_events_per_s": rate, "probes": probes, "missed": misses,
            "first_p50_ms": float(np.percentile(one, 50)), "all_p50_ms": float(np.percentile(every, 50)),
            "all_p95_ms": float(np.percentile(every, 95)), "all_p99_ms": float(np.percentile(every, 99)),
            "all_max_ms": float(every.max())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--replicas", type=int, action="append", help="repeatable (default 1 and 2; 1: the reference)")
    parser.add_argument("--rate", type=float, default=1000.0, help="background events/s")
    parser.add_argument("--probes", type=int, default=200)
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--out", type=Path, default=REPO / "bench-results" / "replica_freshness.json")
    args = parser.parse_args()
    artifact = lightgcn_artifact(REPO / "bench-results" / "replica-artifacts")
    root = Path(tempfile.mkdtemp(prefix="recsys-bench-kafka-"))
    kafka = KafkaBroker(root / "kafka", free_port(), free_port(), heap="1g").start()
    try:
        rows = []
        for count in args.replicas or [1, 2]:
            rows.append(measure(count, artifact, kafka.bootstrap, args.rate, args.probes, args.partitions))
            print(rows[-1], flush=True)
        print("\nfreshness (click produced -> every replica folds it in), ms:")
        print(markdown_table(rows))
        write_json(args.out, {"catalogue": f"synthetic {USERS} users x {ITEMS} items", "rows": rows,
                              "kafka": "4.1.1 KRaft single node"})
    finally:
        kafka.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
