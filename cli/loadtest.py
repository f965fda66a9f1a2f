"""`recsys loadtest`: an async gRPC load generator for the gateway's Recommend.

Two modes: fixed concurrency (N callers back to back) or a fixed offered rate (open loop: calls
start on schedule whether or not earlier ones finished, and latency counts from the scheduled
start, so a stalled server cannot hide its queueing delay). Users are drawn uniformly from
``--users`` distinct ids (``<prefix><7-digit index>``, the synthetic catalogue's naming).
Reports throughput, latency percentiles, errors by status code and catalogue coverage (share of the
catalogue that appeared in any answer), and writes them as JSON.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import grpc
import numpy as np

from recsys.v1 import recommendation_service_pb2 as pb
from recsys.v1 import recommendation_service_pb2_grpc as pb_grpc


@dataclass
class LoadResult:
    target: str
    mode: str
    duration_s: float
    requests: int
    ok: int
    throughput_rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    errors: dict[str, int] = field(default_factory=dict)
    serving_modes: dict[str, int] = field(default_factory=dict)
    catalogue_items: int = 0
    coverage: float = 0.0
    connections: int = 1

    def table(self) -> str:
        rows = [("requests", f"{self.requests:,}"), ("ok", f"{self.ok:,}"),
                ("throughput", f"{self.throughput_rps:,.0f} req/s"), ("p50", f"{self.p50_ms:.1f} ms"),
                ("p95", f"{self.p95_ms:.1f} ms"), ("p99", f"{self.p99_ms:.1f} ms"),
                ("errors", ", ".join(f"{k} {v}" for k, v in self.errors.items()) or "none"),
                ("serving modes", ", ".join(f"{k} {v}" for k, v in self.serving_modes.items())),
                ("catalogue coverage", f"{self.coverage:.3f} of {self.catalogue_items:,} items")]
        return "\n".join(f"{name:<20}{value}" for name, value in rows)


class _Recorder:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.errors: Counter[str] = Counter()
        self.modes: Counter[str] = Counter()
        self.items: set[str] = set()

    def ok(self, latency: float, response: pb.RecommendResponse) -> None:
        self.latencies.append(latency)
        self.modes[_mode_name(response.mode)] += 1
        self.items.update(item.item_id for item in response.items)

    def failed(self, code: grpc.StatusCode) -> None:
        self.errors[code.name] += 1


def _mode_name(mode: int) -> str:
    from recsys.v1 import common_pb2

    return common_pb2.ServingMode.Name(mode).removeprefix("SERVING_MODE_")


async def _call(stub, request: pb.RecommendRequest, timeout: float, started: float, recorder: _Recorder) -> None:
    try:
        response = await stub.Recommend(request, timeout=timeout)
        recorder.ok(time.perf_counter() - started, response)
    except grpc.aio.AioRpcError as error:
        recorder.failed(error.code())


async def run_load(target: str, duration_s: float = 20.0, concurrency: int | None = 16, rate: float | None = None,
                   users: int = 100_000, user_prefix: str = "U", k: int = 10, timeout_s: float = 2.0,
                   seed: int = 0, warmup_s: float = 2.0, connections: int = 1) -> LoadResult:
    """Drive Recommend for ``duration_s`` (after ``warmup_s`` not counted) and summarise.

    ``connections`` HTTP/2 connections carry the calls in turn, like that many clients: a server
    with several worker processes on one port (SO_REUSEPORT) spreads connections, not calls.
    """
    if (concurrency is None) == (rate is None):
        raise ValueError("choose exactly one of a fixed concurrency or a fixed rate")
    if connections < 1:
        raise ValueError(f"connections must be at least 1, got {connections}")
    rng = random.Random(seed)
    user_ids = [f"{user_prefix}{i:07d}" for i in range(users)]
    # a local subchannel pool per channel: otherwise channels to one target share one connection
    channels = [grpc.aio.insecure_channel(target, options=[("grpc.use_local_subchannel_pool", 1)])
                for _ in range(connections)]
    stubs = [pb_grpc.RecommendationServiceStub(channel) for channel in channels]
    turn = itertools.count()
    try:
        info = await stubs[0].GetSystemInfo(pb.GetSystemInfoRequest(), timeout=10)
        recorder = _Recorder()
        for _phase, length in (("warmup", warmup_s), ("measure", duration_s)):
            if length <= 0:
                continue
            recorder = _Recorder()
            started = time.perf_counter()
            end = started + length
            if concurrency is not None:
                async def worker(stub: pb_grpc.RecommendationServiceStub, end: float = end,
                                 recorder: _Recorder = recorder) -> None:
                    while time.perf_counter() < end:
                        request = pb.RecommendRequest(user_id=rng.choice(user_ids), k=k)
                        await _call(stub, request, timeout_s, time.perf_counter(), recorder)
                await asyncio.gather(*(worker(stubs[n % connections]) for n in range(concurrency)))
            else:
                tasks, n = [], 0
                while True:
                    scheduled = started + n / rate
                    if scheduled >= end:
                        break
                    delay = scheduled - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    request = pb.RecommendRequest(user_id=rng.choice(user_ids), k=k)
                    stub = stubs[next(turn) % connections]
                    tasks.append(asyncio.create_task(_call(stub, request, timeout_s, scheduled, recorder)))
                    n += 1
                await asyncio.gather(*tasks)
            elapsed = time.perf_counter() - started
    finally:
        for channel in channels:
            await channel.close()
    latencies = np.array(recorder.latencies) * 1000 if recorder.latencies else np.array([np.nan])
    total = len(recorder.latencies) + sum(recorder.errors.values())
    return LoadResult(
        target=target, mode=f"concurrency {concurrency}" if concurrency is not None else f"rate {rate:g}/s",
        duration_s=elapsed, requests=total, ok=len(recorder.latencies),
        throughput_rps=len(recorder.latencies) / elapsed, p50_ms=float(np.percentile(latencies, 50)),
        p95_ms=float(np.percentile(latencies, 95)), p99_ms=float(np.percentile(latencies, 99)),
        mean_ms=float(np.mean(latencies)), errors=dict(recorder.errors), serving_modes=dict(recorder.modes),
        catalogue_items=int(info.items), coverage=len(recorder.items) / max(1, int(info.items)),
        connections=connections)


def write_result(result: LoadResult, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(result), indent=2))
