"""Seconds per LightGCN training epoch on Gowalla's train.txt by negative draw: the paper's uniform
draw, the hardest of 32 candidates (dynamic negative sampling) and a negative mixed from 32
candidates (MixGCF), for this checkout and, with ``--reference-tree``, an earlier commit's.

Batch 16384, lr 0.01, 2 CPU cores as the machine gives them; each (tree, draw) trains in its own
process for ``--epochs`` epochs, in interleaved rounds so a shared machine's drift hits every row
alike. The table gives the median over rounds of each run's median epoch after the first (which
warms the caches up); the JSON keeps every epoch. A draw the reference's code lacks is skipped there.

    git worktree add /tmp/ref-tree <commit>
    python -m benchmarks.hard_negative_epochs --reference-tree /tmp/ref-tree
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from benchmarks.common import REPO, markdown_table, shared_data, write_json
from benchmarks.serving_levers import git_commit

DRAWS = {
    "uniform (the paper's)": {"hard_negatives": 1},
    "the hardest of 32": {"hard_negatives": 32},
    "mixed from 32 (MixGCF)": {"hard_negatives": 32, "hard_negative_mixing": True},
}

# Run with PYTHONPATH at the tree to time: prints the epochs' seconds as JSON, or "skip" when that
# tree's TrainConfig has no such setting.
TRAIN = """
import dataclasses, json, sys
from training.config import TrainConfig
from training.data.sources import DataSpec, open_dataset
from training.trainer import train

path, epochs, draw = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
if not set(draw) <= {field.name for field in dataclasses.fields(TrainConfig)}:
    print("skip")
    sys.exit(0)
data = open_dataset(DataSpec(path=path, with_valid=False))
config = TrainConfig(model="lightgcn", batch_size=16384, lr=0.01, epochs=epochs, eval_every=1000, device="cpu",
                     reg=1e-4, ks=(20,), eval_batch_users=2048, **draw)
result = train(data, config, progress=False, echo=lambda line: None)
print(json.dumps([row["epoch_seconds"] for row in result.history]))
"""


def epoch_seconds(tree: Path, draw: dict[str, object], epochs: int) -> list[float] | None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tree), str(tree / "gen" / "python")])}
    done = subprocess.run([sys.executable, "-c", TRAIN, str(shared_data("gowalla-lightgcn")), str(epochs),
                           json.dumps(draw)], env=env, cwd=tree, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"training from {tree} failed:\n{done.stderr[-2000:]}")
    last = done.stdout.strip().splitlines()[-1]
    return None if last == "skip" else json.loads(last)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reference-tree", type=Path, help="a checkout of an earlier commit (git worktree add)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--out", type=Path, default=REPO / "bench-results" / "hard_negative_epochs.json")
    args = parser.parse_args()
    if args.reference_tree is not None and not (args.reference_tree / "training" / "trainer.py").exists():
        parser.error(f"--reference-tree {args.reference_tree} is not a checkout of this repository")
    if args.epochs < 2:
        parser.error("--epochs takes at least 2 (the first warms up and is left out)")

    trees = [(git_commit(args.reference_tree), args.reference_tree)] if args.reference_tree else []
    trees.append((f"{git_commit(REPO)} (this checkout)", REPO))
    runs: dict[tuple[str, str], list[list[float]]] = {}
    for round_ in range(args.rounds):
        for draw_name, draw in DRAWS.items():
            for code, tree in trees:
                seconds = epoch_seconds(tree, draw, args.epochs)
                if seconds is None:
                    continue
                runs.setdefault((draw_name, code), []).append(seconds)
                print(f"round {round_ + 1}, {draw_name}, {code}: "
                      f"{statistics.median(seconds[1:]):.2f} s per epoch", flush=True)

    rows = [{"draw": draw_name, "code": code,
             "s_per_epoch": statistics.median(statistics.median(epochs[1:]) for epochs in rounds),
             "epochs_s": rounds}
            for (draw_name, code), rounds in runs.items()]
    print("\n" + markdown_table(rows, ["draw", "code", "s_per_epoch"]))
    write_json(args.out, {"dataset": "gowalla train.txt", "batch": 16384, "lr": 0.01, "epochs": args.epochs,
                          "rows": rows})


if __name__ == "__main__":
    main()
