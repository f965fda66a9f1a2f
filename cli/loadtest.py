"""`recsys loadtest`: an async load generator for the gateway's Recommend, over gRPC or through the
HTTP API's POST /recommendations (``--http``).

Two modes: fixed concurrency (N callers back to back) or a fixed offered rate (open loop: calls
start on schedule whether or not earlier ones finished, and latency counts from the scheduled
start, so a stalled server cannot hide its queueing delay). Users are drawn uniformly from
``--users`` distinct ids (``<prefix><7-digit index>``, the synthetic catalogue's naming).
Reports throughput, latency percentiles, errors by status code and catalogue coverage (share of the
catalogue that appeared in any answer), and writes them as JSON.

Over HTTP it speaks HTTP/1.1 with keep-alive on plain asyncio streams (one connection per caller in
flight, as browsers and most HTTP clients do): a full client library would spend more of the shared
cores than the server it measures.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import ssl
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import grpc
import numpy as np

from core.security import Security
from recsys.v1 import recommendation_service_pb2 as pb
from recsys.v1 import recommendation_service_pb2_grpc as pb_grpc
from services.common.tls import channel_credentials


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

    def ok(self, latency: float, mode: str, item_ids: list[str]) -> None:
        self.latencies.append(latency)
        self.modes[mode] += 1
        self.items.update(item_ids)

    def failed(self, code: str) -> None:
        self.errors[code] += 1


class CallFailed(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class GrpcTransport:
    """``connections`` HTTP/2 connections carry the calls in turn, like that many clients: a server
    with several worker processes on one port (SO_REUSEPORT) spreads connections, not calls."""

    def __init__(self, target: str, connections: int, security: Security = Security()) -> None:
        # a local subchannel pool per channel: otherwise channels to one target share one connection
        options = [("grpc.use_local_subchannel_pool", 1)]
        self.channels = [grpc.aio.secure_channel(target, channel_credentials(security), options=options)
                         if security.tls else grpc.aio.insecure_channel(target, options=options)
                         for _ in range(connections)]
        self.metadata = (("authorization", security.authorization()),) if security.tokens else None
        self.stubs = [pb_grpc.RecommendationServiceStub(channel) for channel in self.channels]
        self._turn = itertools.count()

    async def catalogue_items(self) -> int:
        return int((await self.stubs[0].GetSystemInfo(pb.GetSystemInfoRequest(), timeout=10,
                                                      metadata=self.metadata)).items)

    async def recommend(self, user_id: str, k: int, timeout_s: float) -> tuple[str, list[str]]:
        stub = self.stubs[next(self._turn) % len(self.stubs)]
        try:
            response = await stub.Recommend(pb.RecommendRequest(user_id=user_id, k=k), timeout=timeout_s,
                                            metadata=self.metadata)
        except grpc.aio.AioRpcError as error:
            raise CallFailed(error.code().name) from None
        return _mode_name(response.mode), [item.item_id for item in response.items]

    async def close(self) -> None:
        for channel in self.channels:
            await channel.close()


class HttpTransport:
    """POST /recommendations over HTTP/1.1 keep-alive connections, opened as callers need them."""

    def __init__(self, base_url: str, security: Security = Security()) -> None:
        parsed = urlsplit(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"--http must be an http(s)://host:port URL, got '{base_url}'")
        self.host, self.port = parsed.hostname, parsed.port or (443 if parsed.scheme == "https" else 80)
        self.prefix = parsed.path.rstrip("/")
        # https: trust the CA of RECSYS_TLS_DIR when set, else the system's
        self.ssl = None if parsed.scheme == "http" else ssl.create_default_context(
            cafile=str(security.ca_file) if security.tls else None)
        self.auth = f"Authorization: {security.authorization()}\r\n" if security.tokens else ""
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.opened = 0

    async def _request(self, method: str, path: str, body: bytes, timeout_s: float) -> tuple[int, bytes]:
        connection = self._idle.pop() if self._idle else None
        if connection is None:
            connection = await asyncio.open_connection(self.host, self.port, ssl=self.ssl)
            self.opened += 1
        reader, writer = connection
        head = (f"{method} {self.prefix}{path} HTTP/1.1\r\nHost: {self.host}\r\n"
                f"{self.auth}Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
        try:
            writer.write(head + body)
            status, payload, keep_alive = await asyncio.wait_for(_read_response(reader), timeout_s)
        except BaseException:
            writer.close()  # a half-read response leaves the connection unusable
            raise
        if keep_alive:
            self._idle.append(connection)
        else:
            writer.close()
        return status, payload

    async def catalogue_items(self) -> int:
        status, payload = await self._request("GET", "/system-info", b"", 10)
        if status != 200:
            raise CallFailed(f"HTTP {status}")
        return int(json.loads(payload)["items"])

    async def recommend(self, user_id: str, k: int, timeout_s: float) -> tuple[str, list[str]]:
        body = json.dumps({"userId": user_id, "k": k}).encode()
        try:
            status, payload = await self._request("POST", "/recommendations", body, timeout_s)
        except TimeoutError:
            raise CallFailed("TIMEOUT") from None
        except (OSError, asyncio.IncompleteReadError):
            raise CallFailed("CONNECTION") from None
        if status != 200:
            raise CallFailed(f"HTTP {status}")
        answer = json.loads(payload)
        return answer["mode"].removeprefix("SERVING_MODE_"), [item["itemId"] for item in answer["items"]]

    async def close(self) -> None:
        for _, writer in self._idle:
            writer.close()


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """Status, body, and whether the connection may carry another request (not after the server's
    ``Connection: close``, which a draining server sends so that its clients reconnect elsewhere)."""
    status = int((await reader.readline()).split(b" ", 2)[1])
    length, keep_alive = None, True
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection" and b"close" in value.lower():
            keep_alive = False
    if length is None:
        raise ValueError("the server answered without Content-Length")
    return status, await reader.readexactly(length), keep_alive


def _mode_name(mode: int) -> str:
    from recsys.v1 import common_pb2

    return common_pb2.ServingMode.Name(mode).removeprefix("SERVING_MODE_")


async def _call(transport, user_id: str, k: int, timeout: float, started: float, recorder: _Recorder) -> None:
    try:
        mode, item_ids = await transport.recommend(user_id, k, timeout)
        recorder.ok(time.perf_counter() - started, mode, item_ids)
    except CallFailed as failure:
        recorder.failed(failure.code)


async def run_load(target: str, duration_s: float = 20.0, concurrency: int | None = 16, rate: float | None = None,
                   users: int = 100_000, user_prefix: str = "U", k: int = 10, timeout_s: float = 2.0,
                   seed: int = 0, warmup_s: float = 2.0, connections: int = 1, http: bool = False,
                   security: Security = Security()) -> LoadResult:
    """Drive Recommend for ``duration_s`` (after ``warmup_s`` not counted) and summarise; ``http``:
    ``target`` is the HTTP API's base URL and calls go to POST /recommendations. ``security``: the
    CA to verify the server with and the token to present (RECSYS_TLS_DIR, RECSYS_AUTH_TOKENS)."""
    if (concurrency is None) == (rate is None):
        raise ValueError("choose exactly one of a fixed concurrency or a fixed rate")
    if connections < 1:
        raise ValueError(f"connections must be at least 1, got {connections}")
    rng = random.Random(seed)
    user_ids = [f"{user_prefix}{i:07d}" for i in range(users)]
    transport = HttpTransport(target, security) if http else GrpcTransport(target, connections, security)
    try:
        catalogue_items = await transport.catalogue_items()
        recorder = _Recorder()
        for _phase, length in (("warmup", warmup_s), ("measure", duration_s)):
            if length <= 0:
                continue
            recorder = _Recorder()
            started = time.perf_counter()
            end = started + length
            if concurrency is not None:
                async def worker(end: float = end, recorder: _Recorder = recorder) -> None:
                    while time.perf_counter() < end:
                        await _call(transport, rng.choice(user_ids), k, timeout_s, time.perf_counter(), recorder)
                await asyncio.gather(*(worker() for _ in range(concurrency)))
            else:
                tasks, n = [], 0
                while True:
                    scheduled = started + n / rate
                    if scheduled >= end:
                        break
                    delay = scheduled - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    tasks.append(asyncio.create_task(_call(transport, rng.choice(user_ids), k, timeout_s, scheduled,
                                                           recorder)))
                    n += 1
                await asyncio.gather(*tasks)
            elapsed = time.perf_counter() - started
    finally:
        await transport.close()
    latencies = np.array(recorder.latencies) * 1000 if recorder.latencies else np.array([np.nan])
    total = len(recorder.latencies) + sum(recorder.errors.values())
    return LoadResult(
        target=target, mode=f"concurrency {concurrency}" if concurrency is not None else f"rate {rate:g}/s",
        duration_s=elapsed, requests=total, ok=len(recorder.latencies),
        throughput_rps=len(recorder.latencies) / elapsed, p50_ms=float(np.percentile(latencies, 50)),
        p95_ms=float(np.percentile(latencies, 95)), p99_ms=float(np.percentile(latencies, 99)),
        mean_ms=float(np.mean(latencies)), errors=dict(recorder.errors), serving_modes=dict(recorder.modes),
        catalogue_items=catalogue_items, coverage=len(recorder.items) / max(1, catalogue_items),
        connections=transport.opened if http else connections)


def write_result(result: LoadResult, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(result), indent=2))
