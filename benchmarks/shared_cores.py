"""LightGCN training when other work shares the cores: seconds per epoch on idle cores and beside
CPU burners (busy-loop processes, like other builds and trainings on a CI runner or laptop), for
torch's defaults, for what recsys does (models/threads.py: the pool sized from the available CPUs,
fitted between epochs to the cores no other process wants) and for letting idle OpenMP workers
sleep (OMP_WAIT_POLICY=PASSIVE), with and without the fitting, all in the same run.

Workload: the quickstart's LightGCN (synthetic 6,000 users x 3,000 products, batch 2,048, lr
0.005), --epochs epochs without validation, each configuration in a fresh process (the OpenMP wait
policy is read once, at start). A burner is `while True: pass` in its own process.

    python -m benchmarks.shared_cores                 # JSON: bench-results/shared_cores.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from training.plotting import saved_figure

REPO = Path(__file__).resolve().parents[1]
# name -> (environment for the process, what the worker calls)
POLICIES = {
    "torch defaults": ({"OMP_WAIT_POLICY": None, "RECSYS_THREADS": None}, "none"),
    "passive workers": ({"OMP_WAIT_POLICY": "PASSIVE", "RECSYS_THREADS": None}, "configure"),
    "passive + fit to load": ({"OMP_WAIT_POLICY": "PASSIVE", "RECSYS_THREADS": None}, "adaptive"),
    "recsys: fit to load": ({"OMP_WAIT_POLICY": None, "RECSYS_THREADS": None}, "adaptive"),
}
BURNER = "while True: pass"


def worker(mode: str, epochs: int) -> None:
    """Train and print one JSON line: seconds per epoch and the threads each epoch used."""
    from models import threads as policy

    if mode in ("configure", "adaptive"):
        policy.configure_torch_threads()
    import torch

    from training.config import TrainConfig
    from training.data.sources import DataSpec, open_dataset
    from training.trainer import train

    if mode != "adaptive":  # keep the pool as configured: the trainer's per-epoch fit does nothing
        policy._configured.clear()
    dataset = open_dataset(DataSpec(path="synthetic", synthetic_users=6_000, synthetic_items=3_000, seed=0))
    config = TrainConfig(model="lightgcn", epochs=epochs, batch_size=2048, lr=0.005, protocol="full",
                         metric="recall@20", eval_every=epochs + 1, seed=0)
    result = train(dataset, config, progress=False, echo=lambda _line: None)
    print(json.dumps({"epoch_seconds": [row["epoch_seconds"] for row in result.history],
                      "threads": [row.get("threads", torch.get_num_threads()) for row in result.history]}))


def run(policy: str, burners: int, epochs: int) -> dict[str, object]:
    overrides, mode = POLICIES[policy]
    env = {k: v for k, v in os.environ.items() if k not in overrides}
    env.update({k: v for k, v in overrides.items() if v is not None})
    hogs = [subprocess.Popen([sys.executable, "-c", BURNER]) for _ in range(burners)]
    try:
        time.sleep(0.5 if burners else 0)
        started = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "benchmarks.shared_cores", "--worker", mode, "--epochs",
                              str(epochs)], env=env, cwd=REPO, capture_output=True, text=True, check=True)
        wall = time.perf_counter() - started
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    measured = json.loads(out.stdout.strip().splitlines()[-1])
    seconds = sorted(measured["epoch_seconds"][1:])  # the first epoch warms caches up
    return {"policy": policy, "burners": burners, "s_per_epoch": seconds[len(seconds) // 2], "wall_s": wall,
            "threads": measured["threads"]}


def plot(rows: list[dict[str, object]], path: Path) -> None:
    """Grouped bars: seconds per epoch for each policy, by number of burners."""
    policies = list(dict.fromkeys(str(r["policy"]) for r in rows))
    burners = sorted({int(r["burners"]) for r in rows})
    width = 0.8 / len(policies)
    with saved_figure(path, dpi=120) as (_, axes):
        for i, policy in enumerate(policies):
            values = [next((float(r["s_per_epoch"]) for r in rows if r["policy"] == policy and r["burners"] == b),
                           0.0) for b in burners]
            axes.bar([b + (i - (len(policies) - 1) / 2) * width for b in burners], values, width, label=policy)
        axes.set_xticks(burners, [f"{b} busy process{'es' if b != 1 else ''} beside it" for b in burners])
        axes.set_ylabel("seconds per LightGCN epoch (lower is better)")
        axes.set_title("LightGCN training on 2 shared cores (quickstart data)")
        axes.legend()


def run_quickstart(pinned: bool, burners: int, root: Path) -> dict[str, object]:
    """Wall seconds of the whole `recsys quickstart` (data, three models, evaluation, artifacts)."""
    from core.cpus import available_cpus

    env = dict(os.environ)
    env["RECSYS_THREADS"] = str(available_cpus()) if pinned else "auto"
    hogs = [subprocess.Popen([sys.executable, "-c", BURNER]) for _ in range(burners)]
    try:
        time.sleep(0.5 if burners else 0)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "cli.main", "quickstart", "--out", str(root / f"qs-{pinned}-{burners}"),
                        "--quiet"], env=env, cwd=REPO, capture_output=True, text=True, check=True)
        wall = time.perf_counter() - started
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    policy = "pinned to the CPUs (torch's default count)" if pinned else "recsys: fit to load"
    return {"policy": policy, "burners": burners, "quickstart_s": wall}


def main() -> None:
    from benchmarks.common import markdown_table, write_json
    from core.cpus import available_cpus

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=2, help="interleaved repetitions; the lower median is kept")
    parser.add_argument("--burners", type=int, nargs="+", default=[0, 1, 2], help="busy processes beside it")
    parser.add_argument("--policy", action="append", choices=tuple(POLICIES), help="repeatable; default: all")
    parser.add_argument("--out", type=Path, default=REPO / "bench-results" / "shared_cores.json")
    parser.add_argument("--quickstart", action="store_true",
                        help="time the whole `recsys quickstart` instead (RECSYS_THREADS pinned vs auto)")
    parser.add_argument("--worker", choices=("none", "configure", "adaptive"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.epochs)
        return
    if args.quickstart:
        import tempfile

        with tempfile.TemporaryDirectory() as root:
            rows = []
            for pinned in (True, False):
                for burners in args.burners:
                    rows.append(run_quickstart(pinned, burners, Path(root)))
                    print(f"{rows[-1]['policy']:44s} burners {burners}: {rows[-1]['quickstart_s']:.0f} s", flush=True)
        idle = {row["policy"]: row["quickstart_s"] for row in rows if row["burners"] == 0}
        for row in rows:
            row["vs_own_idle"] = row["quickstart_s"] / idle[row["policy"]] if row["policy"] in idle else None
        print(markdown_table(rows, ["policy", "burners", "quickstart_s", "vs_own_idle"]))
        write_json(args.out, {"available_cpus": available_cpus(), "rows": rows})
        return
    # interleaved rounds: this machine's speed drifts, and must not favour whichever policy ran first
    runs: dict[tuple[str, int], list[dict[str, object]]] = {}
    for _round in range(args.rounds):
        for burners in args.burners:
            for policy in args.policy or list(POLICIES):
                row = run(policy, burners, args.epochs)
                runs.setdefault((policy, burners), []).append(row)
                print(f"{policy:28s} burners {burners}: {row['s_per_epoch']:.2f} s/epoch, threads {row['threads']}",
                      flush=True)
    rows = []
    for (policy, burners), measured in runs.items():
        seconds = sorted(float(r["s_per_epoch"]) for r in measured)
        rows.append({"policy": policy, "burners": burners, "s_per_epoch": seconds[(len(seconds) - 1) // 2],
                     "rounds": [r["s_per_epoch"] for r in measured], "threads": [r["threads"] for r in measured]})
    idle = {row["policy"]: row["s_per_epoch"] for row in rows if row["burners"] == 0}
    reference = idle.get("torch defaults") or min(idle.values())
    for row in rows:
        row["vs_own_idle"] = row["s_per_epoch"] / idle[row["policy"]] if row["policy"] in idle else None
        row["vs_torch_idle"] = row["s_per_epoch"] / reference
    print(f"\nLightGCN, quickstart data, {available_cpus()} CPUs available; median s/epoch of epochs 2..{args.epochs} "
          f"(lower median of {args.rounds} interleaved rounds)")
    print(markdown_table(rows, ["policy", "burners", "s_per_epoch", "vs_own_idle", "vs_torch_idle"]))
    write_json(args.out, {"epochs": args.epochs, "available_cpus": available_cpus(), "rows": rows})
    plot(rows, args.out.with_suffix(".png"))


if __name__ == "__main__":
    main()
