"""`recsys serve all`: the four services in one process (one event loop, four gRPC servers on
their own ports), for the embedded default and local development.

Reads RECSYS_ARTIFACT (a LightGCN artifact: embedding, retrieval and the gateway's catalogue) and
RECSYS_SCORING_ARTIFACT (an NCF artifact for scoring), plus every variable the single services
read (SETTINGS below); with neither set it serves the quickstart's artifacts when they exist. Each
service listens on its default port (gateway 50051, retrieval 50052, scoring 50053, embedding
50054) unless RECSYS_<SERVICE>_PORT says otherwise; one /metrics endpoint serves all four
(RECSYS_METRICS_PORT, default 9090).

RECSYS_WORKERS=N (default 1) runs N such processes on the same ports, for a single host with more
cores than one Python process can use: the kernel spreads incoming connections across them
(SO_REUSEPORT, which gRPC sets on Linux), worker i serves /metrics on RECSYS_METRICS_PORT + i, and
SIGTERM drains them all. On Kubernetes run one worker per pod and scale pods instead.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from cli.embedded_events import EmbeddedEvents
from cli.local_backends import LocalHops
from cli.settings import QUICKSTART
from core.artifact import artifact_version
from core.env import env_int
from core.errors import SettingsError
from core.ports import GRPC_PORTS, METRICS_PORTS
from services.common import event_loop
from services.common.heap import FreezeAfterInstalls, freeze_long_lived
from services.common.reload import watch_artifact
from services.common.server import GrpcServer
from services.common.settings import ServiceSettings, trace_exporter
from services.common.tracing import configure_tracing
from services.embedding.main import build_server as build_embedding
from services.embedding.main import build_tail, start_tail
from services.embedding.store import EmbeddingModel
from services.embedding.tail import InteractionTail
from services.gateway.catalogue import Catalogue
from services.gateway.main import build_server as build_gateway
from services.gateway.settings import GatewaySettings
from services.http.app import create_app
from services.http.events import KafkaSink
from services.http.gateway import InProcessGateway
from services.http.server import HttpServer
from services.http.settings import HttpSettings
from services.retrieval.main import build_server as build_retrieval
from services.retrieval.main import load_index
from services.scoring.main import build_server as build_scoring
from services.scoring.main import load_scorer
from telemetry.setup import configure_logging, start_metrics_server

log = logging.getLogger(__name__)
WORKER_INDEX = "RECSYS_WORKER_INDEX"  # set in each worker's environment by run_workers
# the embedded default's store (as `recsys stream`'s); the quickstart's own next to its models
DEFAULT_STORE = "sqlite:///artifacts/recsys.db"
def _port(env: Mapping[str, str], service: str) -> int:
    return env_int(env, f"RECSYS_{service.upper()}_PORT", GRPC_PORTS[service], minimum=1)


def with_default_artifacts(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` with the quickstart's artifacts filled in when it names none and they exist."""
    env = dict(env)
    if env.get("RECSYS_ARTIFACT") or env.get("RECSYS_SCORING_ARTIFACT"):
        if not env.get("RECSYS_SCORING_ARTIFACT"):
            raise SettingsError("RECSYS_SCORING_ARTIFACT must name an NCF artifact (neumf, gmf, mlp or mf) for "
                                "scoring, beside RECSYS_ARTIFACT")
        if not env.get("RECSYS_ARTIFACT"):
            raise SettingsError("RECSYS_ARTIFACT must name a LightGCN artifact, beside RECSYS_SCORING_ARTIFACT")
        return env
    lightgcn, neumf = QUICKSTART / "lightgcn", QUICKSTART / "neumf"
    if not (artifact_version(lightgcn) and artifact_version(neumf)):
        raise SettingsError(f"no models to serve: run `make quickstart` (writes {QUICKSTART}/) or set "
                            "RECSYS_ARTIFACT (LightGCN) and RECSYS_SCORING_ARTIFACT (NCF)")
    log.info("serving the quickstart's models: %s and %s", lightgcn, neumf)
    return {**env, "RECSYS_ARTIFACT": str(lightgcn), "RECSYS_SCORING_ARTIFACT": str(neumf)}


async def serve_all(env: Mapping[str, str]) -> None:
    env = with_default_artifacts(env)
    base = ServiceSettings.from_env("retrieval", env)
    host = "127.0.0.1" if base.host == "0.0.0.0" else base.host
    ports = {service: _port(env, service) for service in GRPC_PORTS}
    embedding, users = build_embedding(replace(base, service="embedding", port=ports["embedding"]))
    embedded = not base.kafka_bootstrap  # no Kafka: the in-process event pipeline (cli/embedded_events.py)
    if embedded and int(env.get("RECSYS_WORKERS", "1") or 1) > 1:
        log.warning("RECSYS_WORKERS > 1 without RECSYS_KAFKA_BOOTSTRAP: each worker has its own in-process "
                    "event pipeline, so an event posted to one worker reaches only that worker")
    if embedded and not env.get("RECSYS_DATABASE_URL"):  # where the embedded pipeline stores events
        quickstart = Path(env["RECSYS_ARTIFACT"]).resolve() == (QUICKSTART / "lightgcn").resolve()
        env = {**env, "RECSYS_DATABASE_URL": f"sqlite:///{QUICKSTART}/recsys.db" if quickstart else DEFAULT_STORE}
    tail = build_tail(base, users)  # each worker reads the events topic itself
    retrieval, retriever = build_retrieval(replace(base, port=ports["retrieval"]))
    scoring, scorer = build_scoring(replace(base, service="scoring", port=ports["scoring"],
                                                 artifact=Path(env["RECSYS_SCORING_ARTIFACT"])))
    gateway_settings = GatewaySettings.from_env({
        **env, "RECSYS_PORT": str(ports["gateway"]),
        "RECSYS_EMBEDDING_ADDR": f"{host}:{ports['embedding']}",
        "RECSYS_RETRIEVAL_ADDR": f"{host}:{ports['retrieval']}",
        "RECSYS_SCORING_ADDR": f"{host}:{ports['scoring']}"})
    gateway, gw_servicer = build_gateway(gateway_settings)
    http_settings = HttpSettings.from_env(env)
    if env.get("RECSYS_LOCAL_BACKENDS", "1") != "0" and not gateway_settings.traffic_split:
        # the gateway's own backends are in this process: call them directly, not over loopback gRPC
        gw_servicer.use_local_backends("default", LocalHops(users, retriever, scorer))
    servers: list[GrpcServer] = [embedding, retrieval, scoring, gateway]
    for server in servers:  # the RECSYS_WORKERS processes share the ports; a lone process never does
        server.reuse_port = WORKER_INDEX in env
    metrics_port = env_int(env, "RECSYS_METRICS_PORT", METRICS_PORTS["all"], minimum=0)
    if metrics_port:
        metrics_port += int(env.get(WORKER_INDEX, "0"))
    log.info("metrics on port %d", start_metrics_server(metrics_port, tls=base.security))
    for server in servers:
        await server.start()
    artifact, scoring_artifact = base.artifact, Path(env["RECSYS_SCORING_ARTIFACT"])
    try:
        embedding_model = await asyncio.to_thread(EmbeddingModel.from_artifact, artifact)
        users.load(embedding_model)
        await start_tail(tail, embedding_model, base.catchup_seconds)
        retriever.load(*await asyncio.to_thread(load_index, artifact))
        scorer.load(await asyncio.to_thread(load_scorer, scoring_artifact))
        catalogue = await asyncio.to_thread(Catalogue.from_artifact, artifact)
    except BaseException:
        for server in servers:
            await server.abandon()
        raise
    gw_servicer.load(catalogue)
    events = None
    if embedded:
        events = await asyncio.to_thread(EmbeddedEvents, env["RECSYS_DATABASE_URL"], catalogue)
        tail = InteractionTail(events.reader, users)
        await start_tail(tail, embedding_model, base.catchup_seconds)
    sink = events.sink() if events is not None else KafkaSink(base.kafka_bootstrap, base.events_topic)
    http = HttpServer(create_app(InProcessGateway(gw_servicer), sink, http_settings.timeout_s, base.security),
                      base.host, http_settings.port, base.grace_seconds, reuse_port=WORKER_INDEX in env,
                      security=base.security)
    await http.start()
    if base.gc_freeze:  # everything is loaded: keep it out of the collector's full passes
        freeze_long_lived()
    for server in servers:
        await server.mark_serving()
    log.info("all services serving: gateway on port %d, HTTP on port %d", ports["gateway"], http.port)
    watchers = []
    after_install = FreezeAfterInstalls() if base.gc_freeze else None  # one freeze per new version
    if base.reload_seconds > 0:
        version = artifact_version(artifact.resolve())
        for path, loader, install in (
                (artifact, EmbeddingModel.from_artifact, users.load),
                (artifact, load_index, lambda loaded: retriever.load(*loaded)),
                (scoring_artifact, load_scorer, scorer.load),
                (artifact, Catalogue.from_artifact, gw_servicer.load)):
            current = version if path is artifact else artifact_version(path.resolve())
            watchers.append(asyncio.create_task(watch_artifact(
                path, current, loader, install, base.reload_seconds, after_install=after_install)))
    try:
        # The gateway owns the signal handling; the backends stop after it has drained.
        await gateway.run_until_terminated()
    finally:
        await http.stop()
        await asyncio.to_thread(sink.close)
        for watcher in watchers:
            watcher.cancel()
        await gw_servicer.close()
        await asyncio.gather(*(server.stop() for server in servers[:3]))  # their drains overlap
        if tail is not None:
            await asyncio.to_thread(tail.stop)
        if events is not None:
            await asyncio.to_thread(events.stop)


def run_workers(count: int, env: Mapping[str, str]) -> int:
    """``count`` serve-all processes on the same ports until SIGTERM/SIGINT (passed on to each, so
    each drains its calls); the first to die on its own stops the others, and its exit code is
    returned, so a supervisor restarts the whole set."""
    command = [sys.executable, "-m", "cli.main", "serve", "all"]
    workers: list[subprocess.Popen] = []
    stopping = False
    forwarded: set[int] = set()

    def forward(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        forwarded.add(signum)
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signum)

    for sig in (signal.SIGTERM, signal.SIGINT):  # before the workers exist: no stop request is lost
        signal.signal(sig, forward)
    for i in range(count):
        if stopping:
            break
        workers.append(subprocess.Popen(command, env={**env, WORKER_INDEX: str(i)}))
        if stopping:  # the signal came while Popen ran (the child already existed): forward() missed it
            for signum in forwarded:
                workers[-1].send_signal(signum)
    log.info("%d workers: pids %s", count, ", ".join(str(w.pid) for w in workers))
    while not stopping:
        exited = [w for w in workers if w.poll() is not None]
        if exited:
            log.error("worker pid %d exited with %d: stopping the others", exited[0].pid, exited[0].returncode)
            forward(signal.SIGTERM, None)
            break
        time.sleep(0.2)
    codes = [worker.wait() for worker in workers]
    # a worker still starting when the stop came ends by that very signal (its handlers are not
    # installed yet, and it has no calls in flight): a clean stop, not a failure
    failed = [code for code in codes if code != 0 and -code not in forwarded]
    return failed[0] if failed else 0


def main(env: Mapping[str, str]) -> None:
    """Run `serve all` on ``env`` (the environment with any config file's values underneath)."""
    configure_logging(env.get("RECSYS_LOG_LEVEL", "INFO").upper())
    env = with_default_artifacts(env)
    workers = env_int(env, "RECSYS_WORKERS", 1, minimum=1)
    if workers > 1 and WORKER_INDEX not in env:
        raise SystemExit(run_workers(workers, env))
    configure_tracing("all", {"RECSYS_TRACES": trace_exporter(env)})
    event_loop.run(serve_all(env), event_loop.event_loop_choice(env))
