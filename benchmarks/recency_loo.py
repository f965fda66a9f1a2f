"""Recency-weighted pairs on time-ordered Amazon data under leave-one-out: does leaning BPR on the
end of each user's history help where the next purchase is the test?

Each user's latest interaction is the test item and the one before it the validation item (the
sequence files are in time order); the rest trains. LightGCN with BPR on the hardest of 32 sampled
negatives is trained once per recency setting, with early stopping on the validation item's
NDCG@10 ranked against every item the user has not trained on (full ranking), and the test item is
ranked the same way at the best validation epoch. The setting with the best validation NDCG@10 is
marked as chosen; the test set chooses nothing. Unweighted pairs (W = 0) are the reference in the
same run.

    python -m benchmarks.recency_loo --dataset amazon-beauty-s3rec --dataset amazon-sports-s3rec
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from benchmarks.common import REPO, markdown_table, shared_data, write_json
from training.config import TrainConfig
from training.data.sources import DataSpec, open_dataset
from training.recency import RECENCY_SHAPES
from training.trainer import train

DATASETS = {"amazon-beauty-s3rec": "amazon-beauty-s3rec/Beauty.txt",
            "amazon-sports-s3rec": "amazon-sports-s3rec/Sports_and_Outdoors.txt.gz"}
# (weight, shape): the reference, then the shapes at the weights chosen on Gowalla and around them
DEFAULT_SETTINGS = ((0.0, "linear"), (2.0, "linear"), (6.0, "linear"), (2.0, "exponential"), (4.0, "exponential"),
                    (8.0, "exponential"))
METRIC = "ndcg@10"


def setting(text: str) -> tuple[float, str]:
    """``W`` (linear) or ``W:SHAPE``, e.g. ``4:exponential``."""
    weight, _, shape = text.partition(":")
    try:
        value = float(weight)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected W or W:SHAPE, got '{text}'") from None
    shape = shape or "linear"
    if value < 0 or shape not in RECENCY_SHAPES:
        raise argparse.ArgumentTypeError(f"'{text}': W >= 0, SHAPE one of {', '.join(RECENCY_SHAPES)}")
    return value, shape


def run_dataset(name: str, settings: list[tuple[float, str]], epochs: int, eval_every: int, patience: int,
                seed: int) -> list[dict[str, object]]:
    started = time.perf_counter()
    data = open_dataset(DataSpec(path=str(shared_data(DATASETS[name])), format="sequence", split="loo", seed=seed))
    print(f"\n### {name}: {data.summary()} (loaded in {time.perf_counter() - started:.1f}s)", flush=True)
    rows = []
    for weight, shape in settings:
        config = TrainConfig(model="lightgcn", protocol="full", ks=(10, 20), metric=METRIC, batch_size=16384,
                             lr=0.01, hard_negatives=32, epochs=epochs, eval_every=eval_every, patience=patience,
                             seed=seed, device="cpu", recency_weight=weight, recency_shape=shape)
        label = "unweighted pairs" if not weight else f"{shape}, W = {weight:g}"
        print(f"\n== {name}: {label} ==", flush=True)
        wall = time.perf_counter()
        result = train(data, config, progress=False, echo=lambda s: print("  " + s, flush=True))
        rows.append({"dataset": name, "setting": label, "recency_weight": weight,
                     "recency_shape": shape if weight else None, "best_epoch": result.best_epoch,
                     "epochs_run": len(result.history), f"valid_{METRIC}": result.valid_metrics[METRIC],
                     "hr@10": result.test_metrics["hr@10"], "ndcg@10": result.test_metrics["ndcg@10"],
                     "recall@20": result.test_metrics["recall@20"], "ndcg@20": result.test_metrics["ndcg@20"],
                     "s_per_epoch": result.seconds_per_epoch, "wall_s": time.perf_counter() - wall})
        print(f"{label}: valid {METRIC} {rows[-1][f'valid_{METRIC}']:.4f}, test HR@10 {rows[-1]['hr@10']:.4f} "
              f"NDCG@10 {rows[-1]['ndcg@10']:.4f}", flush=True)
    chosen = max(rows, key=lambda row: float(row[f"valid_{METRIC}"]))
    reference = next((row for row in rows if not row["recency_weight"]), None)
    for row in rows:
        row["chosen"] = row is chosen
        row["test_ndcg@10_vs_unweighted"] = (float(row["ndcg@10"]) / float(reference["ndcg@10"])
                                             if reference and reference["ndcg@10"] else None)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", action="append", choices=tuple(DATASETS), help="repeatable; default: all")
    parser.add_argument("--setting", action="append", type=setting, metavar="W[:SHAPE]",
                        help="repeatable: a recency weight and shape (linear, exponential) to train with; "
                             "default: 0, 2, 6 linear and 2, 4, 8 exponential")
    parser.add_argument("--epochs", type=int, default=100, help="at most this many epochs per setting")
    parser.add_argument("--eval-every", type=int, default=2, help="validate every this many epochs")
    parser.add_argument("--patience", type=int, default=4, help="validations without a gain before stopping")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=REPO / "bench-results" / "recency_loo.json")
    args = parser.parse_args()
    if args.epochs < 1 or args.eval_every < 1 or args.patience < 1:
        parser.error("--epochs, --eval-every and --patience take positive counts")
    rows = []
    for name in args.dataset or list(DATASETS):
        rows += run_dataset(name, args.setting or list(DEFAULT_SETTINGS), args.epochs, args.eval_every,
                            args.patience, args.seed)
    print("\n" + markdown_table(rows, ["dataset", "setting", "chosen", "best_epoch", f"valid_{METRIC}", "hr@10",
                                       "ndcg@10", "recall@20", "ndcg@20", "test_ndcg@10_vs_unweighted",
                                       "s_per_epoch", "wall_s"]))
    write_json(args.out, {"protocol": "leave-one-out by time, full ranking of every item the user did not train on; "
                                      f"early stopping and the choice on the validation item's {METRIC}",
                          "model": "LightGCN, BPR on the hardest of 32, batch 16384, lr 0.01",
                          "rows": rows})


if __name__ == "__main__":
    main()
