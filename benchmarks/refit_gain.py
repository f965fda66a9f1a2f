"""What refitting on the held-out interactions buys (`recsys train --refit`), measured one step
ahead: on time-ordered Amazon data, each user's latest interaction is kept aside as the future;
on the rest, the run measures and chooses its epochs on the next-latest (the validation item) as
`recsys train` does, and then either ships that model or, refit, the same settings trained anew on
every remaining interaction (the validation item included) for the chosen epochs. Both are scored
on the future items, ranked against every item the user has not interacted with before them (full
ranking, HR@10, NDCG@10, Recall@20). Same seed, same settings; only the refit differs.

    python -m benchmarks.refit_gain --dataset amazon-beauty-s3rec --dataset amazon-sports-s3rec
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

from benchmarks.common import REPO, markdown_table, shared_data, write_json
from benchmarks.recency_loo import DATASETS, setting
from training.config import TrainConfig
from training.data.dataset import Dataset
from training.data.sources import DataSpec, open_dataset
from training.pipeline import refit_on_everything
from training.trainer import Evaluator, resolve_device, train

KS = (10, 20)


def future_metrics(model, refit_data: Dataset, future: Dataset, config: TrainConfig) -> dict[str, float]:
    """``model`` (trained on ``refit_data``'s interactions) scored on ``future``'s test items, every
    interaction before them excluded from the ranking."""
    scored = replace(refit_data, test=future.test, test_negatives=None)
    return Evaluator(scored, config, resolve_device(config.device)).evaluate(model, "test")


def run_dataset(name: str, settings: list[tuple[float, str]], epochs: int, eval_every: int, patience: int,
                seed: int) -> list[dict[str, object]]:
    data = open_dataset(DataSpec(path=str(shared_data(DATASETS[name])), format="sequence", split="loo", seed=seed))
    print(f"\n### {name}: {data.summary()}", flush=True)
    # the future set aside: refitting this trains on the training rows and the validation items
    without_future = replace(data, test=data.test.take(data.test.users < 0))
    rows = []
    for weight, shape in settings:
        config = TrainConfig(model="lightgcn", protocol="full", ks=KS, metric="ndcg@10", batch_size=16384, lr=0.01,
                             hard_negatives=32, epochs=epochs, eval_every=eval_every, patience=patience, seed=seed,
                             device="cpu", recency_weight=weight, recency_shape=shape)
        label = "unweighted pairs" if not weight else f"{shape}, W = {weight:g}"
        started = time.perf_counter()
        measured = train(data, config, progress=False, echo=lambda s: print("  " + s, flush=True))
        measured_s = time.perf_counter() - started
        started = time.perf_counter()
        refitted, before_future, _ = refit_on_everything(without_future, measured.config, measured.best_epoch,
                                                         echo=lambda s: print("  refit " + s, flush=True))
        refit_s = time.perf_counter() - started
        for model_label, metrics, seconds in (
                ("as measured (trained without the validation item)", measured.test_metrics, measured_s),
                ("refit on every interaction before the future",
                 future_metrics(refitted, before_future, data, measured.config), refit_s)):
            rows.append({"dataset": name, "pairs": label, "model": model_label, "epochs": measured.best_epoch,
                         "hr@10": metrics["hr@10"], "ndcg@10": metrics["ndcg@10"],
                         "recall@20": metrics["recall@20"], "train_s": seconds})
        print(f"{label}: future NDCG@10 {rows[-2]['ndcg@10']:.4f} as measured, {rows[-1]['ndcg@10']:.4f} refit",
              flush=True)
    for measured_row, refit_row in zip(rows[::2], rows[1::2], strict=True):
        refit_row["ndcg@10_vs_measured"] = float(refit_row["ndcg@10"]) / max(float(measured_row["ndcg@10"]), 1e-12)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", action="append", choices=tuple(DATASETS), help="repeatable; default: all")
    parser.add_argument("--setting", action="append", type=setting, metavar="W[:SHAPE]",
                        help="repeatable: recency weight and shape (default: 0, unweighted pairs)")
    parser.add_argument("--epochs", type=int, default=100, help="at most this many epochs (early stopping)")
    parser.add_argument("--eval-every", type=int, default=2)
    parser.add_argument("--patience", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=REPO / "bench-results" / "refit_gain.json")
    args = parser.parse_args()
    rows = []
    for name in args.dataset or list(DATASETS):
        rows += run_dataset(name, args.setting or [(0.0, "linear")], args.epochs, args.eval_every, args.patience,
                            args.seed)
    print("\n" + markdown_table(rows, ["dataset", "pairs", "model", "epochs", "hr@10", "ndcg@10", "recall@20",
                                       "ndcg@10_vs_measured", "train_s"]))
    write_json(args.out, {"protocol": "each user's latest interaction is the future, ranked against every item "
                                      "the user has not interacted with before it; epochs chosen on the one before",
                          "model": "LightGCN, BPR on the hardest of 32, batch 16384, lr 0.01", "rows": rows})


if __name__ == "__main__":
    main()
