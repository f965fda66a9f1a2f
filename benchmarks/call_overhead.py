"""What the gRPC servers' own machinery costs per call: server CPU per call of a method that does
nothing (bytes in, the same bytes out), served by a bare grpc.aio server (the floor: gRPC and the
event loop alone), by this checkout's GrpcServer (services/common/server.py: health, reflection and
the call pipeline around every method) and, with ``--reference-tree``, by an earlier commit's.

Each server runs in its own process on uvloop; the load is a closed loop of 16 callers over 4
connections from this process (also on uvloop), in interleaved rounds so a shared machine's drift
hits every row alike; the table gives medians, the JSON every round.

    python -m benchmarks.call_overhead --reference-tree /tmp/ref-tree
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import grpc

from benchmarks.common import REPO, markdown_table, write_json
from benchmarks.serving_levers import cpu_seconds, git_commit
from services.common import event_loop

METHOD = "/bench.Echo/Call"

# Run with PYTHONPATH at the tree to serve; only APIs every commit's GrpcServer has.
SERVER = """
import sys
import grpc
from services.common import event_loop

async def call(request, context):
    return request

HANDLERS = {"Call": grpc.unary_unary_rpc_method_handler(call)}

async def main(kind):
    if kind == "bare":
        server = grpc.aio.server()
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("bench.Echo", HANDLERS),))
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
    else:
        from services.common.server import GrpcServer, ServiceBinding

        def register(target):  # as a generated add_*Servicer_to_server does
            target.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("bench.Echo", HANDLERS),))
            target.add_registered_method_handlers("bench.Echo", HANDLERS)

        grpc_server = GrpcServer([ServiceBinding("bench.Echo", register)], "127.0.0.1:0")
        port = await grpc_server.start()
        await grpc_server.mark_serving()
        server = grpc_server.server
    print(port, flush=True)
    await server.wait_for_termination()

event_loop.run(main(sys.argv[1]))
"""


def start_server(kind: str, tree: Path) -> tuple[subprocess.Popen, int]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tree), str(tree / "gen" / "python")]),
           "RECSYS_LOG_LEVEL": "WARNING"}
    process = subprocess.Popen([sys.executable, "-c", SERVER, kind], env=env, cwd=tree, stdout=subprocess.PIPE,
                               text=True)
    line = process.stdout.readline()  # type: ignore[union-attr]
    if not line.strip().isdigit():
        process.kill()
        raise SystemExit(f"the {kind} server from {tree} did not start (see its output above)")
    return process, int(line)


async def closed_loop(port: int, concurrency: int, connections: int, duration_s: float,
                      warmup_s: float) -> tuple[int, float]:
    """Calls completed and seconds taken over ``duration_s`` after ``warmup_s``."""
    channels = [grpc.aio.insecure_channel(f"127.0.0.1:{port}", options=[("grpc.use_local_subchannel_pool", 1)])
                for _ in range(connections)]
    calls = [channel.unary_unary(METHOD) for channel in channels]
    completed = 0

    async def caller(index: int, until: float) -> None:
        nonlocal completed
        call = calls[index % connections]
        while time.perf_counter() < until:
            await call(b"x" * 32, timeout=10)
            completed += 1

    try:
        await asyncio.gather(*(caller(i, time.perf_counter() + warmup_s) for i in range(concurrency)))
        completed = 0
        started = time.perf_counter()
        await asyncio.gather(*(caller(i, started + duration_s) for i in range(concurrency)))
        return completed, time.perf_counter() - started
    finally:
        for channel in channels:
            await channel.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reference-tree", type=Path, help="a checkout of an earlier commit (git worktree add)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--out", type=Path, default=REPO / "bench-results" / "call_overhead.json")
    args = parser.parse_args()
    if args.reference_tree is not None and not (args.reference_tree / "services" / "common" / "server.py").exists():
        parser.error(f"--reference-tree {args.reference_tree} is not a checkout of this repository")

    servers = [("bare grpc.aio server (the floor)", "bare", REPO), ("GrpcServer: this checkout", "grpc-server", REPO)]
    if args.reference_tree is not None:
        servers.insert(1, (f"GrpcServer: {git_commit(args.reference_tree)}", "grpc-server", args.reference_tree))
    runs: dict[str, list[dict[str, float]]] = {}
    for round_ in range(args.rounds):
        for name, kind, tree in servers:
            process, port = start_server(kind, tree)
            try:
                before = cpu_seconds(process.pid)
                completed, seconds = event_loop.run(closed_loop(port, args.concurrency, args.connections,
                                                                args.duration, args.warmup))
                # server CPU over warm-up and measurement alike, divided by the calls of both
                calls = completed / seconds * (seconds + args.warmup)
                measured = {"calls_per_s": completed / seconds,
                            "server_cpu_us_per_call": (cpu_seconds(process.pid) - before) * 1e6 / calls}
            finally:
                process.terminate()
                process.wait(timeout=30)
            runs.setdefault(name, []).append(measured)
            print(f"round {round_ + 1}, {name}: {measured['calls_per_s']:,.0f} calls/s, "
                  f"server CPU {measured['server_cpu_us_per_call']:.0f} us per call", flush=True)

    floor = statistics.median(m["server_cpu_us_per_call"] for m in runs[servers[0][0]])
    rows = []
    for name, _, _ in servers:
        cpu = statistics.median(m["server_cpu_us_per_call"] for m in runs[name])
        rows.append({"server": name, "calls_per_s": statistics.median(m["calls_per_s"] for m in runs[name]),
                     "server_cpu_us_per_call": cpu, "above_the_floor_us": cpu - floor, "rounds": runs[name]})
    print("\n" + markdown_table(rows, ["server", "calls_per_s", "server_cpu_us_per_call", "above_the_floor_us"]))
    write_json(args.out, {"method": "unary, 32 bytes echoed", "concurrency": args.concurrency,
                          "connections": args.connections, "code": git_commit(REPO),
                          "reference_code": git_commit(args.reference_tree) if args.reference_tree else None,
                          "rows": rows})


if __name__ == "__main__":
    main()
