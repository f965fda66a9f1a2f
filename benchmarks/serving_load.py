"""Serving throughput and latency: the full stack (`recsys serve all`: Recommend over gRPC into the
gateway, or POST /recommendations into its HTTP API, then embedding -> retrieval -> scoring -> blend
in the same process) against a trivial gRPC server (the health check: the ceiling of Python gRPC on
this machine) in the same run, with the load generators on the same cores.

The catalogue is synthetic, 100k users x 50k items; LightGCN and NeuMF are trained briefly on it
and cached under bench-results/serving-artifacts. Load: 100k distinct user ids, fixed concurrency
levels, 15 s each after a 3 s warm-up, against one and two serve-all worker processes, from three
clients: `recsys loadtest` over gRPC (4 connections) and over HTTP (a keep-alive connection per
caller), vegeta (an independent Go HTTP client, stack/vegeta.py) and ghz (an independent Go gRPC
client, stack/ghz.py). Coverage is compared with the
taste oracle: the accuracy-optimal recommender for this catalogue (true tastes known), over as many
requests.

    python -m benchmarks.serving_load
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc
import numpy as np
from grpc_health.v1 import health_pb2, health_pb2_grpc

from benchmarks.common import REPO, markdown_table, write_json
from cli.loadtest import run_load
from stack.ghz import descriptor_set, ghz_binary
from stack.vegeta import vegeta_binary
from training.artifacts import save_artifact
from training.config import TrainConfig
from training.data.sources import DataSpec, open_dataset
from training.data.synthetic import SyntheticConfig, generate
from training.trainer import train

ORIGINAL = {"system": "original (Flask + numpy, 50 clients)", "throughput_rps": 360.0, "p50_ms": 12.8,
            "p95_ms": 90.0, "p99_ms": 131.0, "coverage": 0.042}


# Trained to convergence of the sampled HR@10 on this catalogue (the first version trained LightGCN
# 2 epochs: HR@10 0.729 and a popularity-heavy top 10 with a fifth of this coverage).
LIGHTGCN_EPOCHS, NEUMF_EPOCHS = 12, 4


def artifacts(cache: Path) -> tuple[Path, Path]:
    """Both models for the benchmark catalogue, trained once (LightGCN ~25 min on 2 cores) and cached."""
    lightgcn, neumf = cache / f"lightgcn-e{LIGHTGCN_EPOCHS}", cache / f"neumf-e{NEUMF_EPOCHS}"
    if (lightgcn / "manifest.json").exists() and (neumf / "manifest.json").exists():
        return lightgcn, neumf
    data = open_dataset(DataSpec(path="synthetic", synthetic_users=100_000, synthetic_items=50_000, with_valid=False))
    print(f"catalogue: {data.summary()}", flush=True)
    for path, config in ((lightgcn, TrainConfig(model="lightgcn", epochs=LIGHTGCN_EPOCHS, batch_size=16384, lr=0.01,
                                                protocol="sampled")),
                         (neumf, TrainConfig(model="neumf", epochs=NEUMF_EPOCHS, batch_size=8192, lr=0.002))):
        if (path / "manifest.json").exists():
            continue
        result = train(data, config, progress=False, echo=lambda s: print("  " + s, flush=True))
        save_artifact(path, result.model, data, {"config": result.config.to_dict()}, result.test_metrics)
    return lightgcn, neumf


def taste_oracle_coverage(requests: int, k: int = 10, seed: int = 0) -> float:
    """Catalogue coverage of the accuracy-optimal recommender for this synthetic catalogue, over as
    many requests as the load test made: each user's top ``k`` unseen items by their true taste
    mixture over segments (which the generator knows) times the items' observed popularity inside
    each segment, plus the generator's share of popularity-driven picks. It says how much coverage
    a recommender can have on this catalogue without trading accuracy for it."""
    data = generate(SyntheticConfig(n_users=100_000, n_items=50_000, seed=DataSpec().seed))
    log = data.interactions()
    users, items = np.searchsorted(data.user_ids, log.user_ids), np.searchsorted(data.item_ids, log.item_ids)
    counts = np.bincount(items, minlength=len(data.item_ids)).astype(np.float64)
    segment = data.item_segment
    within = counts / np.maximum(np.bincount(segment, weights=counts)[segment], 1.0)
    explore = data.config.explore_prob
    base = explore * counts / counts.sum()
    members = [np.flatnonzero(segment == s) for s in range(data.config.n_segments)]
    order = np.argsort(users, kind="stable")
    indptr = np.r_[0, np.cumsum(np.bincount(users, minlength=len(data.user_ids)))]
    rng = random.Random(seed)
    covered: set[int] = set()
    for _ in range(requests):
        user = rng.randrange(len(data.user_ids))
        p = base.copy()
        for s, weight in zip(data.user_segments[user], data.user_weights[user]):
            p[members[s]] += (1 - explore) * weight * within[members[s]]
        p[items[order[indptr[user]:indptr[user + 1]]]] = -1.0
        covered.update(np.argpartition(-p, k)[:k].tolist())
    return len(covered) / len(data.item_ids)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def echo_load(target: str, concurrency: int, duration_s: float, warmup_s: float) -> dict[str, object]:
    """The same closed loop as the load test, against grpc.health.v1.Health/Check."""
    async with grpc.aio.insecure_channel(target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        latencies: list[float] = []
        for length, _keep in ((warmup_s, False), (duration_s, True)):
            latencies = []
            end = time.perf_counter() + length

            async def worker(end: float = end, latencies: list[float] = latencies) -> None:
                while time.perf_counter() < end:
                    started = time.perf_counter()
                    await stub.Check(health_pb2.HealthCheckRequest(), timeout=2)
                    latencies.append(time.perf_counter() - started)
            started_all = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            elapsed = time.perf_counter() - started_all
    ms = np.array(latencies) * 1000
    return {"system": f"echo (health check), concurrency {concurrency}", "throughput_rps": len(ms) / elapsed,
            "p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95)),
            "p99_ms": float(np.percentile(ms, 99)), "coverage": ""}


def start_stack(lightgcn: Path, neumf: Path, ports: dict[str, int] | None = None,
                extra_env: dict[str, str] | None = None, tree: Path | None = None) -> tuple[subprocess.Popen, str]:
    """`recsys serve all` on the two artifacts, SERVING; ``tree``: run another checkout's code (an
    earlier commit, as the reference in a before/after comparison) instead of this one's."""
    ports = ports or {name: free_port() for name in ("gateway", "retrieval", "scoring", "embedding", "http")}
    env = {**os.environ, "RECSYS_ARTIFACT": str(lightgcn), "RECSYS_SCORING_ARTIFACT": str(neumf),
           "RECSYS_HOST": "127.0.0.1", "RECSYS_METRICS_PORT": "0", "RECSYS_LOG_LEVEL": "WARNING",
           **{f"RECSYS_{n.upper()}_PORT": str(p) for n, p in ports.items()}, **(extra_env or {})}
    if tree is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(tree), str(tree / "gen" / "python")])
    process = subprocess.Popen([sys.executable, "-m", "cli.main", "serve", "all"], env=env, cwd=tree)
    target = f"127.0.0.1:{ports['gateway']}"
    channel = grpc.insecure_channel(target)
    deadline = time.time() + 300
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the stack exited with status {process.returncode} before it was SERVING")
        try:
            status = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=1).status
            if status == health_pb2.HealthCheckResponse.SERVING:
                channel.close()
                return process, target
        except grpc.RpcError:
            pass
        time.sleep(0.5)
    process.kill()
    raise SystemExit("the stack did not become SERVING within 300 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--concurrency", type=int, action="append", help="repeatable (default 16 and 64)")
    parser.add_argument("--workers", type=int, action="append", help="serve-all worker processes, repeatable "
                        "(default 1 and 2)")
    parser.add_argument("--connections", type=int, default=4, help="gRPC client connections (default 4)")
    parser.add_argument("--transport", action="append", choices=("grpc", "ghz", "http", "vegeta"),
                        help="repeatable (default all four): gRPC Recommend from `recsys loadtest`; the same from ghz, "
                             "an independent Go client; the HTTP API's POST /recommendations from `recsys loadtest "
                             "--http` (one keep-alive connection per caller); the same from vegeta, an independent "
                             "Go client")
    parser.add_argument("--models", type=Path, nargs=2, metavar=("LIGHTGCN", "NEUMF"),
                        help="serve these artifacts instead of the benchmark catalogue's (no taste oracle then)")
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--out", type=Path, default=REPO / "bench-results" / "serving_load.json")
    parser.add_argument("--shared-cores", action="store_true",
                        help="instead: gRPC at the first concurrency level, one worker, with 0 and 1 busy processes "
                             "beside it, for each --threads value of RECSYS_THREADS")
    parser.add_argument("--threads", action="append", help="RECSYS_THREADS values for --shared-cores (default 2, 1)")
    args = parser.parse_args()
    levels = args.concurrency or [16, 64]
    args.workers = args.workers or [1, 2]
    lightgcn, neumf = args.models or artifacts(REPO / "bench-results" / "serving-artifacts")
    if args.shared_cores:
        shared_cores(lightgcn, neumf, args.threads or ["2", "1"], levels[0], args)
        return
    rows: list[dict[str, object]] = []

    # Echo ceiling: a bare grpc.aio server in a child process, so it has its own interpreter like the stack.
    echo_port = free_port()
    echo = subprocess.Popen([sys.executable, "-c", ECHO_SERVER, str(echo_port)])
    time.sleep(2)
    try:
        for level in levels:
            rows.append(asyncio.run(echo_load(f"127.0.0.1:{echo_port}", level, args.duration, args.warmup)))
            print(rows[-1], flush=True)
    finally:
        echo.send_signal(signal.SIGTERM)
        echo.wait(timeout=10)

    transports = args.transport or ["grpc", "ghz", "http", "vegeta"]
    for workers in args.workers:
        ports = {name: free_port() for name in ("gateway", "retrieval", "scoring", "embedding", "http")}
        process, target = start_stack(lightgcn, neumf, ports, extra_env={"RECSYS_WORKERS": str(workers)})
        try:
            time.sleep(3 if workers > 1 else 0)  # the other workers finish loading (health answers from one)
            for transport, level in ((transport, level) for transport in transports for level in levels):
                if transport == "vegeta":
                    rows.append({"system": f"full stack over HTTP POST /recommendations (vegeta), {workers} worker"
                                           f"{'s' if workers > 1 else ''}, concurrency {level}",
                                 **vegeta_load(f"http://127.0.0.1:{ports['http']}", level, args.duration,
                                               args.warmup)})
                    print(rows[-1], flush=True)
                    continue
                if transport == "ghz":
                    rows.append({"system": f"full stack over gRPC (ghz), {workers} worker"
                                           f"{'s' if workers > 1 else ''}, concurrency {level}",
                                 **ghz_load(target, level, args.connections, args.duration, args.warmup)})
                    print(rows[-1], flush=True)
                    continue
                http = transport == "http"
                result = asyncio.run(run_load(f"http://127.0.0.1:{ports['http']}" if http else target, args.duration,
                                              concurrency=level, warmup_s=args.warmup, connections=args.connections,
                                              http=http))
                via = "HTTP POST /recommendations" if http else "gRPC"
                rows.append({"system": f"full stack over {via}, {workers} worker{'s' if workers > 1 else ''}, "
                                       f"concurrency {level}",
                             "throughput_rps": result.throughput_rps, "p50_ms": result.p50_ms,
                             "p95_ms": result.p95_ms, "p99_ms": result.p99_ms, "coverage": result.coverage,
                             "requests": result.requests, "errors": result.errors, "modes": result.serving_modes})
                print(rows[-1], flush=True)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    if not args.models:
        most = max((row for row in rows if "requests" in row), key=lambda row: row["requests"])
        rows.append({"system": f"taste oracle (coverage only, {most['requests']:,} requests)", "throughput_rps": "",
                     "p50_ms": "", "p95_ms": "", "p99_ms": "",
                     "coverage": taste_oracle_coverage(int(most["requests"]))})
    rows.append(ORIGINAL)
    print("\n" + markdown_table(rows, ["system", "throughput_rps", "p50_ms", "p95_ms", "p99_ms", "coverage"]))
    catalogue = f"{lightgcn} + {neumf}" if args.models else "synthetic 100k users x 50k items"
    write_json(args.out, {"catalogue": catalogue, "users_in_load": 100_000,
                          "grpc_client_connections": args.connections,
                          "http_client_connections": "one per concurrent caller (keep-alive)", "rows": rows})


def shared_cores(lightgcn: Path, neumf: Path, thread_counts: list[str], level: int, args) -> None:
    """Serving beside busy processes (other work on the same cores), per torch thread count."""
    rows = []
    for threads in thread_counts:
        process, target = start_stack(lightgcn, neumf, extra_env={"RECSYS_THREADS": threads})
        try:
            for burners in (0, 1):
                hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(burners)]
                try:
                    result = asyncio.run(run_load(target, args.duration, concurrency=level, warmup_s=args.warmup,
                                                  connections=args.connections))
                finally:
                    for hog in hogs:
                        hog.kill()
                        hog.wait()
                rows.append({"RECSYS_THREADS": threads, "busy processes": burners,
                             "throughput_rps": result.throughput_rps, "p50_ms": result.p50_ms,
                             "p99_ms": result.p99_ms, "errors": result.errors})
                print(rows[-1], flush=True)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    print("\n" + markdown_table(rows))
    write_json(args.out.with_name("serving_shared_cores.json"),
               {"catalogue": "synthetic 100k users x 50k items", "concurrency": level, "rows": rows})


def vegeta_load(base_url: str, concurrency: int, duration_s: float, warmup_s: float, users: int = 100_000,
                k: int = 10) -> dict[str, object]:
    """Closed-loop load from vegeta (``concurrency`` workers back to back) on POST /recommendations,
    for 100k distinct users as the Python client draws them; the warm-up is a first, unreported run."""
    vegeta = str(vegeta_binary())
    rng = random.Random(0)
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as targets:
        for _ in range(20_000):
            body = json.dumps({"userId": f"U{rng.randrange(users):07d}", "k": k}).encode()
            targets.write(json.dumps({"method": "POST", "url": f"{base_url}/recommendations",
                                      "header": {"Content-Type": ["application/json"]},
                                      "body": base64.b64encode(body).decode()}) + "\n")
    attack = [vegeta, "attack", "-format=json", f"-targets={targets.name}", "-rate=0",
              f"-workers={concurrency}", f"-max-workers={concurrency}", "-keepalive=true"]
    try:
        subprocess.run([*attack, f"-duration={warmup_s}s"], check=True, capture_output=True)
        results = subprocess.run([*attack, f"-duration={duration_s}s"], check=True, capture_output=True).stdout
        report = json.loads(subprocess.run([vegeta, "report", "-type=json"], input=results, check=True,
                                           capture_output=True).stdout)
    finally:
        os.unlink(targets.name)
    latencies, codes = report["latencies"], report["status_codes"]
    return {"throughput_rps": report["throughput"], "p50_ms": latencies["50th"] / 1e6,
            "p95_ms": latencies["95th"] / 1e6, "p99_ms": latencies["99th"] / 1e6, "coverage": "",
            "requests": report["requests"], "errors": {code: count for code, count in codes.items() if code != "200"}}


def ghz_load(target: str, concurrency: int, connections: int, duration_s: float, warmup_s: float,
             users: int = 100_000, k: int = 10) -> dict[str, object]:
    """Closed-loop load from ghz (``concurrency`` workers over ``connections`` connections, as the
    Python client) on Recommend, each call for a random one of 100k users; the warm-up is a first,
    unreported run."""
    ghz = str(ghz_binary())
    with tempfile.TemporaryDirectory() as work:
        protoset = descriptor_set(Path(work) / "recsys.protoset")
        # a Go template per call; its raw string (backquotes) needs no escaping inside the JSON
        data = json.dumps({"user_id": f"U{{{{printf `%07d` (randomInt 0 {users})}}}}", "k": k})
        call = [ghz, "--insecure", f"--protoset={protoset}", "--call=recsys.v1.RecommendationService/Recommend",
                f"--data={data}", f"--concurrency={concurrency}", f"--connections={connections}", "--timeout=2s",
                "--format=json", target]
        subprocess.run([*call, f"--duration={warmup_s}s"], check=True, capture_output=True)
        report = json.loads(subprocess.run([*call, f"--duration={duration_s}s"], check=True,
                                           capture_output=True).stdout)
    latency = {entry["percentage"]: entry["latency"] / 1e6 for entry in report.get("latencyDistribution") or []}
    # ghz closes its connections when the duration is up: the calls then in flight (one per worker)
    # end "Unavailable ... use of closed network connection" on the client's side, not the server's
    cut = sum(count for message, count in (report.get("errorDistribution") or {}).items()
              if "use of closed network connection" in message)
    errors = {code: count for code, count in (report.get("statusCodeDistribution") or {}).items() if code != "OK"}
    if cut:
        errors["Unavailable"] -= cut
        errors = {code: count for code, count in errors.items() if count}
    return {"throughput_rps": report["rps"], "p50_ms": latency.get(50), "p95_ms": latency.get(95),
            "p99_ms": latency.get(99), "coverage": "", "requests": report["count"] - cut, "errors": errors,
            "cut_off_by_the_client_at_the_end": cut}


ECHO_SERVER = """
import asyncio, sys, grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
async def main():
    server = grpc.aio.server()
    health = HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    server.add_insecure_port('127.0.0.1:' + sys.argv[1])
    await server.start()
    await health.set('', health_pb2.HealthCheckResponse.SERVING)
    await server.wait_for_termination()
asyncio.run(main())
"""


if __name__ == "__main__":
    main()
