"""Test Recall@20 against training time: our LightGCN beside the official PyTorch code
(gusye1234/LightGCN-PyTorch), on the paper's split, the same cores, the same time budget.

Each run trains for ``--budget`` seconds of training (the last epoch may end past it), or for its
own number of epochs where its spec ends in ``@E`` (a recipe whose schedule is counted in epochs), and is
evaluated on test.txt at checkpoints, off the clock: the checkpoints draw the curve and select
nothing (ours: our trainer's epoch observer; every epoch's model is the one the fixed schedule would
have reached anyway; the official code: its own ``Procedure.Test`` after its own
``Procedure.BPR_train_original`` epochs, as its main.py does every 10 epochs). Set-up (data loading,
the normalised graph) is reported beside the curve, not on it. Prints a table and writes JSON and a
PNG.

    python -m benchmarks.lightgcn_time_curve --budget 900
    python -m benchmarks.lightgcn_time_curve --ours gowalla:16384:0.01:cosine:bpr:32:4exp@23 --budget 900
    python -m benchmarks.lightgcn_time_curve --ours gowalla:2048:0.001:constant --official 2048:0.001 --budget 300

``LIGHTGCN_OFFICIAL`` points at a checkout of the official code (fetched, never committed); without it
only ours runs.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

from benchmarks.common import REPO, markdown_table, shared_data, write_json
from benchmarks.gpu_suite import PAPER, LightGCNRun
from benchmarks.lightgcn_speed import DEFAULT_OFFICIAL, OFFICIAL_SETUP, official_commit, run_official_driver
from training import evaluation
from training.data.sources import DataSpec, open_dataset
from training.plotting import saved_figure
from training.trainer import train

# the recipe that reaches the paper's Recall@20 on these cores (docs/benchmarks.md), the earlier
# large-batch schedule, and the paper's own settings
DEFAULT_OURS = ("gowalla:16384:0.01:cosine:bpr:32:4exp@23", "gowalla:16384:0.01:cosine:bpr",
                "gowalla:2048:0.001:constant:bpr")
DEFAULT_OFFICIAL_RUNS = ("2048:0.001",)  # the paper's batch and learning rate; the official code has no schedule

OFFICIAL_CURVE = OFFICIAL_SETUP + r'''
started = time.perf_counter()
recmodel = model.LightGCN(world.config, dataset).to(world.device)  # builds the normalised graph
bpr = utils.BPRLoss(recmodel, world.config)
setup_s = load_s + time.perf_counter() - started
note("model and graph ready in %.1fs" % (time.perf_counter() - started))
curve, train_s, epoch = [], 0.0, 0
while train_s < spec["budget_s"]:
    started = time.perf_counter()
    info = Procedure.BPR_train_original(dataset, recmodel, bpr, epoch, neg_k=1, w=None)
    train_s += time.perf_counter() - started
    epoch += 1
    if epoch % spec["eval_every"] and train_s < spec["budget_s"]:
        continue
    started = time.perf_counter()
    results = Procedure.Test(dataset, recmodel, epoch, None, 0)
    point = {"epoch": epoch, "train_s": train_s, "recall@20": float(results["recall"][0]),
             "ndcg@20": float(results["ndcg"][0]), "eval_s": time.perf_counter() - started}
    curve.append(point)
    note("epoch %d (%s): %.0fs trained, recall@20 %.4f ndcg@20 %.4f (test %.0fs, off the clock)"
         % (epoch, info, train_s, point["recall@20"], point["ndcg@20"], point["eval_s"]))
print(spec["marker"] + json.dumps({"curve": curve, "epochs": epoch, "train_s": train_s, "setup_s": setup_s,
                                   "threads": torch.get_num_threads(), "sampler": sampler}), flush=True)
'''


def run_ours(run: LightGCNRun, budget_s: float, points: int) -> dict[str, Any]:
    """Train one of our configurations for the budget; test recall at ``points`` even time checkpoints."""
    started = time.perf_counter()
    data = open_dataset(DataSpec(path=str(shared_data(f"{run.dataset}-lightgcn")), with_valid=False))
    load_s = time.perf_counter() - started
    config = run.train_config("cpu", budget_s, eval_batch_users=2048)
    curve: list[dict[str, float]] = []
    clock = {"train_s": 0.0, "next": budget_s / points}

    def observe(row: dict[str, float], model: Any) -> dict[str, float]:
        clock["train_s"] += row["epoch_seconds"]
        if clock["train_s"] < clock["next"]:
            return {}
        clock["next"] += budget_s / points
        began = time.perf_counter()
        metrics = evaluation.full_ranking(model, data.test, [data.train], [20], batch_users=2048)
        point = {"epoch": int(row["epoch"]), "train_s": clock["train_s"], "recall@20": metrics["recall@20"],
                 "ndcg@20": metrics["ndcg@20"], "eval_s": time.perf_counter() - began}
        curve.append(point)
        print(f"[ours] epoch {point['epoch']}: {point['train_s']:.0f}s trained, recall@20 {point['recall@20']:.4f} "
              f"ndcg@20 {point['ndcg@20']:.4f}", flush=True)
        return {"test_recall@20": point["recall@20"]}

    budget = "" if run.epochs else f", {budget_s:.0f}s"  # the name says the epochs of a run counted in them
    print(f"\n== ours: {run.name}{budget} ==", flush=True)
    result = train(data, config, progress=False, echo=lambda s: print(s, flush=True), observe=observe)
    if not curve or curve[-1]["epoch"] != len(result.history):
        curve.append({"epoch": len(result.history), "train_s": result.train_seconds,
                      "recall@20": result.test_metrics["recall@20"], "ndcg@20": result.test_metrics["ndcg@20"],
                      "eval_s": result.timings["test_seconds"]})
    return {"implementation": "ours", "name": "ours, " + run.name.removeprefix(f"LightGCN {run.dataset} "),
            "dataset": run.dataset, "batch": run.batch_size, "lr": run.lr, "schedule": run.schedule, "loss": run.loss,
            "hard_negatives": run.hard_negatives, "recency_weight": run.recency_weight,
            "recency_shape": run.recency_shape, "epochs_set": run.epochs,
            "epochs": len(result.history), "train_s": result.train_seconds,
            "setup_s": load_s + result.timings["setup_seconds"], "curve": curve}


def run_official(official: Path, dataset: str, batch: int, lr: float, budget_s: float,
                 eval_every: int) -> dict[str, Any] | None:
    print(f"\n== official: batch {batch}, lr {lr}, {budget_s:.0f}s ==", flush=True)
    raw = run_official_driver(official, shared_data(f"{dataset}-lightgcn"), OFFICIAL_CURVE,
                              {"batch_size": batch, "lr": lr, "budget_s": budget_s, "eval_every": eval_every})
    if raw is None:
        return None
    return {"implementation": "official", "name": f"official code, batch {batch}, lr {lr} constant, bpr",
            "dataset": dataset, "batch": batch, "lr": lr, "schedule": "constant", "loss": "bpr",
            "commit": official_commit(official), **raw}


def recall_by(curve: list[dict[str, float]], seconds: float) -> float | None:
    """The last recall measured within ``seconds`` of training."""
    measured = [p["recall@20"] for p in curve if p["train_s"] <= seconds]
    return measured[-1] if measured else None


def minutes_to(curve: list[dict[str, float]], recall: float) -> float | None:
    reached = [p["train_s"] for p in curve if p["recall@20"] >= recall]
    return reached[0] / 60 if reached else None


def summary_rows(runs: list[dict[str, Any]], budget_s: float, paper: float) -> list[dict[str, object]]:
    rows = []
    milestone = round(0.8 * paper, 3)  # a recall every run reaches early enough to compare speeds
    for run in runs:
        curve = run["curve"]
        end = curve[-1] if curve else {}
        rows.append({
            "run": run["name"], "epochs": run["epochs"], "s/epoch": round(run["train_s"] / max(1, run["epochs"]), 1),
            "set-up s": round(run["setup_s"], 1),
            **{f"recall@20 by {m:.3g} min": recall_by(curve, m * 60) for m in (budget_s / 180, budget_s / 90)},
            "recall@20 at the end": end.get("recall@20"), "ndcg@20 at the end": end.get("ndcg@20"),
            "of the paper": round(end["recall@20"] / paper, 3) if end else None,
            f"min to {milestone:g}": minutes_to(curve, milestone),
        })
    return rows


def plot(runs: list[dict[str, Any]], paper: float, dataset: str, path: Path) -> None:
    with saved_figure(path, figsize=(7.5, 4.2)) as (_, ax):
        for run in runs:
            curve = run["curve"]
            style = "--" if run["implementation"] == "official" else "-"
            epochs = "" if run.get("epochs_set") else f" ({run['epochs']} epochs)"  # else the name says them
            ax.plot([p["train_s"] / 60 for p in curve], [p["recall@20"] for p in curve], style, marker="o",
                    markersize=3, label=run["name"] + epochs)
        ax.axhline(paper, color="grey", linestyle=":", label=f"paper, 1000 epochs ({paper})")
        ax.set_xlabel("training minutes (2 CPU cores; set-up and test evaluations not counted)")
        ax.set_ylabel("test Recall@20 (full ranking)")
        ax.set_title(f"LightGCN on {dataset}: ours and the official code, same cores")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")


def parse_official(text: str) -> tuple[int, float]:
    try:
        batch, lr = text.split(":")
        return int(batch), float(lr)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected BATCH:LR, got '{text}'") from None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ours", action="append", type=LightGCNRun.parse,
                        help="DATASET:BATCH:LR:SCHEDULE[:LOSS[:K[:R]]][@E] as in benchmarks.gpu_suite, "
                             "repeatable (default: "
                             + ", ".join(DEFAULT_OURS) + "); all runs must share one dataset")
    parser.add_argument("--official", action="append", type=parse_official,
                        help="BATCH:LR for the official code, repeatable (default 2048:0.001, the paper's)")
    parser.add_argument("--no-official", action="store_true", help="only our runs")
    parser.add_argument("--budget", type=float, default=900.0, help="training seconds per run")
    parser.add_argument("--points", type=int, default=15, help="our test checkpoints per run (evenly in time)")
    parser.add_argument("--official-eval-every", type=int, default=1, help="official: test every N epochs")
    parser.add_argument("--out", type=Path, default=REPO / "bench-results" / "lightgcn_time_curve.json")
    args = parser.parse_args()
    ours = args.ours or [LightGCNRun.parse(text) for text in DEFAULT_OURS]
    datasets = {run.dataset for run in ours}
    if len(datasets) != 1:
        parser.error("--ours runs must all use one dataset")
    dataset = datasets.pop()
    paper = PAPER[dataset]["recall@20"]
    official_dir = Path(os.environ.get("LIGHTGCN_OFFICIAL", DEFAULT_OFFICIAL))
    if not args.no_official and not (official_dir / "code" / "model.py").exists():
        parser.error(f"official checkout not found at {official_dir}: set LIGHTGCN_OFFICIAL or pass --no-official")

    runs = [run_ours(run, args.budget, args.points) for run in ours]
    failed = []
    for batch, lr in [] if args.no_official else (args.official or [parse_official(t) for t in DEFAULT_OFFICIAL_RUNS]):
        record = run_official(official_dir, dataset, batch, lr, args.budget, args.official_eval_every)
        if record is None:
            failed.append(f"official {batch}:{lr}")
        else:
            runs.append(record)
    rows = summary_rows(runs, args.budget, paper)
    print(f"\nLightGCN on {dataset}, test Recall@20 against training time ({args.budget:.0f} s per run)\n")
    print(markdown_table(rows))
    if failed:
        print("failed (see the output above): " + ", ".join(failed))
    write_json(args.out, {"benchmark": "lightgcn_time_curve", "dataset": dataset, "budget_s": args.budget,
                          "paper_recall@20": paper, "protocol": "LightGCN paper split, full ranking excluding "
                          "training items; test checkpoints off the clock, selecting nothing",
                          "summary": rows, "runs": runs, "failed": failed})
    plot(runs, paper, dataset, args.out.with_suffix(".png"))
    print(f"wrote {args.out.with_suffix('.png')}")


if __name__ == "__main__":
    main()
