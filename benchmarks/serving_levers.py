"""Serving levers measured one by one: the same stack, load and machine, with one change at a
time, in interleaved rounds (each round runs every lever once, so drift of a shared machine hits
them alike), and the serving path's own quality for each (Recommend through the gateway for held-out
users, scored against their held-out item), so that a faster lever shows what it costs in quality.

Catalogue and models: benchmarks/serving_load.py's (synthetic 100k users x 50k items, LightGCN 12
epochs, NeuMF 4; cached under bench-results/serving-artifacts). Load: `recsys loadtest` over gRPC,
4 connections, 100k distinct users, one serve-all worker, concurrency 16 and 64.

    python -m benchmarks.serving_levers
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import time
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import numpy as np

from benchmarks.common import REPO, markdown_table, write_json
from benchmarks.serving_load import artifacts, free_port, start_stack
from cli.loadtest import run_load
from recsys.v1 import recommendation_service_pb2 as pb
from recsys.v1 import recommendation_service_pb2_grpc as pb_grpc
from services.common import event_loop
from training.candidates import attach_candidates
from training.data.sources import DataSpec, open_dataset


@dataclass(frozen=True)
class Lever:
    name: str
    precomputed: bool  # serve the LightGCN artifact with its precomputed candidates, else a copy without
    env: dict[str, str] = field(default_factory=dict)
    client_loop: str = "asyncio"  # the load generator's event loop (services/common/event_loop.py)
    reference: bool = False  # serve with the code of --reference-tree (an earlier commit), not this checkout's


# the collector as Python sets it (services/common/heap.py) and the standard library's event loop
# (services/common/event_loop.py): how the rows before those two levers ran
BEFORE = {"RECSYS_GC_FREEZE": "off", "RECSYS_EVENT_LOOP": "asyncio"}
LEVERS = (
    Lever("scan of every item, 200 candidates scored (before)", precomputed=False, env=BEFORE),
    Lever("precomputed candidates, 200 scored", precomputed=True, env=BEFORE),
    Lever("precomputed candidates, 200 scored, long-lived objects frozen", precomputed=True,
          env={"RECSYS_EVENT_LOOP": "asyncio"}),
    Lever("precomputed candidates, 200 scored, frozen, uvloop", precomputed=True),
    Lever("precomputed candidates, frozen, uvloop, 100 scored", precomputed=True, env={"RECSYS_CANDIDATES": "100"}),
    Lever("precomputed candidates, frozen, uvloop, 50 scored", precomputed=True,
          env={"RECSYS_CANDIDATES": "50", "RECSYS_MAX_K": "50"}),
    Lever("precomputed candidates, 200 scored, frozen, uvloop, load generator on uvloop", precomputed=True,
          client_loop="uvloop"),
    Lever("precomputed candidates, 200 scored, frozen, uvloop: the code of --reference-tree", precomputed=True,
          reference=True),
)
FULL_PASS = re.compile(r'recsys_gc_pause_seconds_(bucket|sum|count)\{generation="2"(?:,le="([^"]+)")?\} (\S+)')
HANDLED = re.compile(r'recsys_rpc_duration_seconds_(sum|count)\{([^}]*)\} (\S+)')
RECOMMEND_OK = {'service="RecommendationService"', 'method="Recommend"', 'code="OK"'}


def server_counters(metrics_port: int) -> dict[str, object]:
    """From the server's /metrics: its generation-2 garbage collections so far (count, total seconds
    and cumulative bucket counts by upper bound, from recsys_gc_pause_seconds) and the seconds its
    successful Recommend handlers took in all, with their number (recsys_rpc_duration_seconds)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    found: dict[str, object] = {"buckets": {}, "handled_sum": 0.0, "handled_count": 0.0}
    for kind, bound, value in FULL_PASS.findall(text):
        if kind == "bucket":
            found["buckets"][bound] = float(value)  # type: ignore[index]
        else:
            found[kind] = float(value)
    for kind, labels, value in HANDLED.findall(text):
        if set(labels.split(",")) == RECOMMEND_OK:  # in whichever order the client library writes them
            found[f"handled_{kind}"] = float(value)
    return found


def handler_mean_ms_between(before: dict[str, object], after: dict[str, object]) -> float | None:
    """The mean time of the Recommend calls handled between two scrapes, measured inside the server
    from the call pipeline's entry to the handler's answer: what a call spends beyond it (gRPC's
    and the event loop's queues, the transport, the client) is the client's mean minus this."""
    count = float(after["handled_count"]) - float(before["handled_count"])  # type: ignore[arg-type]
    seconds = float(after["handled_sum"]) - float(before["handled_sum"])  # type: ignore[arg-type]
    return seconds / count * 1000 if count else None


def _median_of_measured(values: Iterable[float | None]) -> float | None:
    """The median of the rounds that measured something (None: none did), never a zero for a gap."""
    measured = [value for value in values if value is not None]
    return statistics.median(measured) if measured else None


def git_commit(tree: Path) -> str:
    """The commit a checkout is at, with "+changes" when its tracked files differ from it."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(tree), *args], capture_output=True, text=True).stdout.strip()
    return git("rev-parse", "--short", "HEAD") + ("+changes" if git("status", "--porcelain", "--untracked-files=no")
                                                  else "")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process (all its threads) has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime: fields 14, 15


def pauses_between(before: dict[str, object], after: dict[str, object]) -> dict[str, float | None]:
    """Full collections during a load run: how many, their mean and the bucket bound that holds the longest."""
    count = float(after["count"]) - float(before["count"])  # type: ignore[arg-type]
    seconds = float(after["sum"]) - float(before["sum"])  # type: ignore[arg-type]
    if not count:
        return {"gc2_passes": 0.0, "gc2_mean_ms": 0.0, "gc2_longest_at_most_ms": 0.0}
    # the smallest finite bound whose bucket took in every pass of the run (None: one passed the last)
    holding = [float(bound) * 1000 for bound, cumulative in after["buckets"].items()  # type: ignore[union-attr]
               if bound != "+Inf" and cumulative - before["buckets"].get(bound, 0.0) == count]  # type: ignore[union-attr]
    return {"gc2_passes": count, "gc2_mean_ms": seconds / count * 1000,
            "gc2_longest_at_most_ms": min(holding, default=None)}


def without_candidates(lightgcn: Path, out: Path) -> Path:
    """The same artifact minus its candidates part (its other files hard-linked: an artifact's parts
    must lie inside it, so symbolic links out of it are refused)."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    manifest = json.loads((lightgcn / "manifest.json").read_text())
    manifest["files"].pop("candidates", None)
    for name in manifest["files"].values():
        try:
            os.link(lightgcn / name, out / name)
        except OSError:  # another file system
            shutil.copy2(lightgcn / name, out / name)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return out


def held_out(sample: int, seed: int = 0) -> list[tuple[str, str]]:
    """(user id, held-out item id) for ``sample`` users of the benchmark catalogue's test split."""
    data = open_dataset(DataSpec(path="synthetic", synthetic_users=100_000, synthetic_items=50_000, with_valid=False))
    rows = random.Random(seed).sample(range(len(data.test)), sample)
    return [(str(data.user_ids[data.test.users[i]]), str(data.item_ids[data.test.items[i]])) for i in rows]


async def serving_quality(target: str, pairs: list[tuple[str, str]], concurrency: int = 16) -> dict[str, float]:
    """HR@10, Recall@20 (one held-out item per user: the hit rate at 20) and NDCG@10 of what the
    gateway answers, for each user's held-out item."""
    ranks: list[int | None] = []
    async with grpc.aio.insecure_channel(target) as channel:
        stub = pb_grpc.RecommendationServiceStub(channel)
        queue = list(pairs)

        async def worker() -> None:
            while queue:
                user, item = queue.pop()
                answer = await stub.Recommend(pb.RecommendRequest(user_id=user, k=20), timeout=10)
                ids = [entry.item_id for entry in answer.items]
                ranks.append(ids.index(item) if item in ids else None)
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    found = np.array([r for r in ranks if r is not None])
    n = len(ranks)
    return {"hr@10": float((found < 10).sum() / n), "recall@20": float(len(found) / n),
            "ndcg@10": float((1 / np.log2(found[found < 10] + 2)).sum() / n)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--lever", type=int, action="append", choices=range(1, len(LEVERS) + 1),
                        help="repeatable: only these rows, by number (default all): "
                             + "; ".join(f"{i} {lever.name}" for i, lever in enumerate(LEVERS, 1)))
    parser.add_argument("--concurrency", type=int, action="append", help="repeatable (default 16 and 64)")
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--quality-users", type=int, default=3000)
    parser.add_argument("--models", type=Path, nargs=2, metavar=("LIGHTGCN", "NEUMF"),
                        help="other artifacts of the same catalogue (default: trained once and cached)")
    parser.add_argument("--reference-tree", type=Path,
                        help="a checkout of an earlier commit (git worktree add): the last lever serves its code")
    parser.add_argument("--out", type=Path, default=REPO / "bench-results" / "serving_levers.json")
    args = parser.parse_args()
    levers = [LEVERS[i - 1] for i in sorted(set(args.lever))] if args.lever else list(LEVERS)
    if args.reference_tree is None:
        if args.lever and any(lever.reference for lever in levers):
            parser.error("the reference lever serves the code of --reference-tree: name one")
        levers = [lever for lever in levers if not lever.reference]
    elif not (args.reference_tree / "cli" / "main.py").exists():
        parser.error(f"--reference-tree {args.reference_tree} is not a checkout of this repository")
    levels = args.concurrency or [16, 64]
    cache = REPO / "bench-results" / "serving-artifacts"
    lightgcn, neumf = args.models or artifacts(cache)
    if attach_candidates(lightgcn, echo=lambda line: print("  " + line, flush=True)):
        print(f"added precomputed candidates to {lightgcn}", flush=True)
    scan = without_candidates(lightgcn, lightgcn.with_name(lightgcn.name + "-without-candidates"))
    pairs = held_out(args.quality_users)

    runs: dict[tuple[str, int], list[dict[str, float]]] = {}
    quality: dict[str, dict[str, float]] = {}
    for round_ in range(args.rounds):
        for lever in levers:
            metrics_port = free_port()
            process, target = start_stack(lightgcn if lever.precomputed else scan, neumf,
                                          extra_env={"RECSYS_WORKERS": "1", "RECSYS_METRICS_PORT": str(metrics_port),
                                                     **lever.env},
                                          tree=args.reference_tree if lever.reference else None)
            try:
                if lever.name not in quality:
                    quality[lever.name] = asyncio.run(serving_quality(target, pairs))
                    print(f"{lever.name}: {quality[lever.name]}", flush=True)
                for level in levels:
                    before, server_cpu, client_cpu = server_counters(metrics_port), cpu_seconds(process.pid), \
                        time.process_time()
                    result = event_loop.run(run_load(target, args.duration, concurrency=level,
                                                     warmup_s=args.warmup, connections=4), lever.client_loop)
                    after = server_counters(metrics_port)
                    server_side = pauses_between(before, after)
                    # the handlers' time and the CPU per request over warm-up and measurement alike (both
                    # load the server the same way)
                    server_side["handler_mean_ms"] = handler_mean_ms_between(before, after)
                    calls = result.throughput_rps * (args.duration + args.warmup)
                    server_side["server_cpu_ms_per_request"] = (cpu_seconds(process.pid) - server_cpu) * 1000 / calls
                    server_side["client_cpu_ms_per_request"] = (time.process_time() - client_cpu) * 1000 / calls
                    runs.setdefault((lever.name, level), []).append(
                        {"throughput_rps": result.throughput_rps, "p50_ms": result.p50_ms, "p99_ms": result.p99_ms,
                         "mean_ms": result.mean_ms, "coverage": result.coverage, "requests": result.requests,
                         "errors": result.errors,
                         **server_side})
                    print(f"round {round_ + 1}, {lever.name}, c{level}: {result.throughput_rps:,.0f} req/s, "
                          f"p99 {result.p99_ms:.1f} ms, {server_side['gc2_passes']:.0f} full collections "
                          f"(mean {server_side['gc2_mean_ms']:.0f} ms)", flush=True)
            finally:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)

    rows = []
    for (name, level), measured in runs.items():
        rows.append({"lever": name, "concurrency": level,
                     "throughput_rps": statistics.median(m["throughput_rps"] for m in measured),
                     "p50_ms": statistics.median(m["p50_ms"] for m in measured),
                     "p99_ms": statistics.median(m["p99_ms"] for m in measured),
                     "mean_ms": statistics.median(m["mean_ms"] for m in measured),
                     "handler_mean_ms": _median_of_measured(m["handler_mean_ms"] for m in measured),
                     "coverage": statistics.median(m["coverage"] for m in measured), **quality[name],
                     "server_cpu_ms_per_request": statistics.median(m["server_cpu_ms_per_request"] for m in measured),
                     "client_cpu_ms_per_request": statistics.median(m["client_cpu_ms_per_request"] for m in measured),
                     "gc2_passes": sum(m["gc2_passes"] for m in measured),
                     "gc2_mean_ms": statistics.median(m["gc2_mean_ms"] for m in measured if m["gc2_passes"])
                     if any(m["gc2_passes"] for m in measured) else 0.0,
                     "rounds": measured})
    rows.sort(key=lambda row: (row["concurrency"], [lever.name for lever in LEVERS].index(row["lever"])))
    print("\n" + markdown_table(rows, ["lever", "concurrency", "throughput_rps", "p50_ms", "p99_ms", "mean_ms",
                                       "handler_mean_ms", "hr@10",
                                       "recall@20", "ndcg@10", "coverage", "server_cpu_ms_per_request",
                                       "client_cpu_ms_per_request", "gc2_passes", "gc2_mean_ms"]))
    write_json(args.out, {"catalogue": "synthetic 100k users x 50k items", "users_in_load": 100_000,
                          "code": git_commit(REPO), "reference_code": git_commit(args.reference_tree)
                          if args.reference_tree else None,
                          "quality_users": args.quality_users, "rounds": args.rounds, "workers": 1,
                          "grpc_client_connections": 4, "rows": rows})


if __name__ == "__main__":
    main()
