"""Event pipeline: sustained events/s from producer to committed PostgreSQL rows, and freshness
(an event produced -> a Recommend call reflecting it), against a real Kafka broker and a real
PostgreSQL started for the run (stack/), everything on this machine's cores.

References in the same run: the producer alone (events/s acknowledged by the broker) and the
database alone (the same events bulk-loaded with COPY, the store's ceiling).

Catalogue: synthetic 100k users x 50k items (seed 0); events replay the generator's funnel.
Freshness: `recsys serve all` (LightGCN + NeuMF trained briefly on that catalogue, shared with
benchmarks.serving_load) and one stream processor telling the embedding service; background load
at --rate events/s; each probe is a new user's click, polled with Recommend every 10 ms until the
answer is personalised.

    python -m benchmarks.events_pipeline
"""

from __future__ import annotations

import argparse
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
from sqlalchemy import text

from benchmarks.common import REPO, markdown_table, write_json
from benchmarks.serving_load import artifacts, start_stack
from cli.synthetic_traffic import synthetic_catalogue
from events.bus import Topics
from events.codec import make_event
from events.kafka_bus import KafkaPublisher, ensure_topics
from recsys.v1 import recommendation_service_pb2 as pb
from recsys.v1 import recommendation_service_pb2_grpc as pb_grpc
from stack import KafkaBroker, PostgresServer
from stack.process import free_port
from store import repository
from store.bulk import EventColumns, load_events, product_rows
from store.db import make_engine, upgrade

USERS, ITEMS = 100_000, 50_000


def count_rows(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.scalar(text("SELECT count(*) FROM interactions")))
    finally:
        engine.dispose()


def reset_store(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE interactions, users, online_metrics"))
    engine.dispose()


def stream_env(bootstrap: str, url: str, topics: Topics, group: str, extra: dict | None = None) -> dict:
    return {**os.environ, "RECSYS_KAFKA_BOOTSTRAP": bootstrap, "RECSYS_DATABASE_URL": url,
            "RECSYS_EVENTS_TOPIC": topics.events, "RECSYS_DLQ_TOPIC": topics.dead_letter,
            "RECSYS_ONLINE_METRICS_TOPIC": topics.online_metrics, "RECSYS_STREAM_GROUP": group,
            "RECSYS_METRICS_PORT": "0", "RECSYS_LOG_LEVEL": "WARNING", **(extra or {})}


def new_topics(bootstrap: str, partitions: int) -> Topics:
    prefix = f"bench{uuid.uuid4().hex[:6]}"
    topics = Topics(f"{prefix}.events", f"{prefix}.dlq", f"{prefix}.online")
    ensure_topics(bootstrap, topics, partitions=partitions)
    return topics


def throughput(bootstrap: str, url: str, events: int, processors: int, partitions: int) -> dict:
    reset_store(url)
    topics = new_topics(bootstrap, partitions)
    group = f"bench-{uuid.uuid4().hex[:6]}"
    env = stream_env(bootstrap, url, topics, group)
    procs = [subprocess.Popen([sys.executable, "-m", "cli.main", "stream"], env=env) for _ in range(processors)]
    time.sleep(4)  # group join, so the clock measures the pipeline, not start-up
    started = time.perf_counter()
    producer = subprocess.Popen([sys.executable, "-m", "cli.main", "events", "produce", "--count", str(events),
                                 "--users", str(USERS), "--items", str(ITEMS)],
                                env={**env, "RECSYS_EVENTS_TOPIC": topics.events}, stdout=subprocess.PIPE, text=True)
    rows = 0
    while rows < events:
        time.sleep(0.25)
        rows = count_rows(url)
        if any(p.poll() is not None for p in procs):
            raise SystemExit("a stream processor exited during the benchmark")
    elapsed = time.perf_counter() - started
    out, _ = producer.communicate(timeout=60)
    for p in procs:
        p.terminate()
        p.wait(30)
    produced = [line for line in out.splitlines() if line.startswith("{")]
    return {"pipeline": f"producer -> Kafka ({partitions} partitions) -> {processors} processor(s) -> PostgreSQL",
            "events": events, "seconds": elapsed, "events_per_s": events / elapsed, "rows": rows,
            "producer_alone": produced[-1] if produced else ""}


def database_alone(url: str, events: int) -> dict:
    reset_store(url)
    data = synthetic_catalogue(USERS, ITEMS)
    ev = data.events
    take = slice(0, events)
    columns = EventColumns(np.char.add("ref-", np.arange(events).astype(str)), ev.user_ids[take], ev.item_ids[take],
                           ev.event_type_names[take], ev.value[take].astype(np.float64),
                           np.full(events, int(time.time())))
    engine = make_engine(url)
    started = time.perf_counter()
    load_events(engine, columns, None, chunk=20_000, progress=False)
    elapsed = time.perf_counter() - started
    engine.dispose()
    return {"pipeline": "reference: the same number of events bulk-loaded with COPY (no Kafka)", "events": events,
            "seconds": elapsed, "events_per_s": events / elapsed}


def freshness(bootstrap: str, url: str, rate: float, probes: int, partitions: int) -> dict:
    reset_store(url)
    lightgcn, neumf = artifacts(REPO / "bench-results" / "serving-artifacts")
    ports = {name: free_port() for name in ("gateway", "retrieval", "scoring", "embedding", "http")}
    topics = new_topics(bootstrap, partitions)
    # the embedding service reads the events topic itself, beside the processor that stores them
    server, target = start_stack(lightgcn, neumf, ports, {
        "RECSYS_DATABASE_URL": url, "RECSYS_KAFKA_BOOTSTRAP": bootstrap, "RECSYS_EVENTS_TOPIC": topics.events})
    try:
        env = stream_env(bootstrap, url, topics, f"fresh-{uuid.uuid4().hex[:6]}")
        processor = subprocess.Popen([sys.executable, "-m", "cli.main", "stream"], env=env)
        time.sleep(5)
        # the background load comes from its own process, like a real producer fleet
        background = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "events", "produce", "--rate", str(rate), "--count",
             str(int(rate * 600)), "--users", str(USERS), "--items", str(ITEMS), "--seed", "1"],
            env={**env, "RECSYS_EVENTS_TOPIC": topics.events}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(8)  # catalogue generation and the first events
        channel = grpc.insecure_channel(target)
        gateway = pb_grpc.RecommendationServiceStub(channel)
        publisher = KafkaPublisher(bootstrap, **{"linger.ms": 0})
        latencies, misses = [], 0
        run = uuid.uuid4().hex[:6]
        for n in range(probes):
            user = f"probe-{run}-{n}"
            first = gateway.Recommend(pb.RecommendRequest(user_id=user, k=5), timeout=5)
            item = first.items[0].item_id
            started = time.perf_counter()
            publisher.publish(topics.events, user.encode(), make_event(user, item, "click").SerializeToString())
            publisher.flush(5)
            deadline = started + 5
            while time.perf_counter() < deadline:
                answer = gateway.Recommend(pb.RecommendRequest(user_id=user, k=5), timeout=5)
                if "for you" in answer.items[0].reason:
                    latencies.append(time.perf_counter() - started)
                    break
                time.sleep(0.01)
            else:
                misses += 1
            time.sleep(0.05)
        background.terminate()
        background.wait(30)
        channel.close()
        processor.terminate()
        processor.wait(30)
    finally:
        server.terminate()
        server.wait(30)
    ms = np.array(latencies) * 1000
    return {"background_events_per_s": rate, "probes": probes, "reflected": len(latencies), "missed_5s": misses,
            "p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95)),
            "p99_ms": float(np.percentile(ms, 99)), "max_ms": float(ms.max())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--processors", type=int, action="append", help="repeatable (default 1 and 2)")
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--rate", type=float, default=1000.0, help="background events/s during the freshness probes")
    parser.add_argument("--probes", type=int, default=200)
    parser.add_argument("--skip-freshness", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--out", type=Path, default=REPO / "bench-results" / "events_pipeline.json")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="recsys-bench-stack-"))
    root.chmod(0o755)
    pg = PostgresServer(root / "postgres", free_port()).start()
    kafka = KafkaBroker(root / "kafka", free_port(), free_port(), heap="1g").start()
    try:
        upgrade(pg.url)
        engine = make_engine(pg.url)
        data = synthetic_catalogue(USERS, ITEMS)
        with engine.begin() as connection:
            rows = product_rows(data.item_ids, data.catalogue)
            for start in range(0, len(rows), 10_000):
                repository.upsert_products(connection, rows[start:start + 10_000])
        engine.dispose()
        results = []
        if not args.skip_throughput:
            results.append(database_alone(pg.url, args.events))
            print(results[-1], flush=True)
            for processors in args.processors or [1, 2]:
                results.append(throughput(kafka.bootstrap, pg.url, args.events, processors, args.partitions))
                print(results[-1], flush=True)
            print("\n" + markdown_table(results, ["pipeline", "events", "seconds", "events_per_s"]))
        fresh = None
        if not args.skip_freshness:
            fresh = freshness(kafka.bootstrap, pg.url, args.rate, args.probes, args.partitions)
            print("\nfreshness (event produced -> Recommend reflects it):")
            print(markdown_table([fresh]))
        write_json(args.out, {"catalogue": f"synthetic {USERS} users x {ITEMS} items", "throughput": results,
                              "freshness": fresh, "postgres": "15 (Debian), default durability (fsync on)",
                              "kafka": "4.1.1 KRaft single node"})
    finally:
        kafka.stop()
        pg.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
