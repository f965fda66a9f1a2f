"""Same split and budget as RecBole's published ml-100k benchmark: per-user random 80/10/10,
full ranking over all items except the user's training items, Recall/NDCG/Hit@10, early stopping on
validation NDCG@10. RecBole's figures (BASELINES.md, RecBole
1.2.1 defaults on a machine of this size) are printed beside ours; RecBole itself is not run here.

    python -m benchmarks.recbole_compare
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from benchmarks.common import REPO, markdown_table, shared_data, write_json
from training.config import TrainConfig
from training.data.sources import DataSpec, open_dataset
from training.trainer import train

RECBOLE = {"NeuMF": {"recall@10": 0.2323, "ndcg@10": 0.2729, "hr@10": 0.7688, "s_per_epoch": 1.39},
           "LightGCN": {"recall@10": 0.1853, "ndcg@10": 0.2116, "hr@10": 0.6819, "s_per_epoch": 1.88}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=REPO / "bench-results" / "recbole_compare.json")
    args = parser.parse_args()
    data = open_dataset(DataSpec(path=str(shared_data("ml-100k")), format="movielens", split="random",
                                 test_ratio=0.1, valid_ratio=0.1, seed=args.seed))
    print(f"ml-100k: {data.summary()}", flush=True)
    common = {"protocol": "full", "ks": (10,), "metric": "ndcg@10", "epochs": args.epochs, "patience": 5,
              "seed": args.seed, "device": "cpu"}
    plans = {
        "Popularity": TrainConfig(model="pop", **{**common, "epochs": 0}),
        "NeuMF": TrainConfig(model="neumf", batch_size=2048, lr=0.002, **common),
        "LightGCN": TrainConfig(model="lightgcn", batch_size=2048, lr=0.002, **common),
    }
    rows = []
    for name, config in plans.items():
        started = time.perf_counter()
        result = train(data, config, progress=False, echo=lambda s: print("  " + s, flush=True))
        row = {"model": name, "recall@10": result.test_metrics["recall@10"], "ndcg@10": result.test_metrics["ndcg@10"],
               "hr@10": result.test_metrics["hr@10"], "s_per_epoch": result.seconds_per_epoch,
               "best_epoch": result.best_epoch, "wall_s": time.perf_counter() - started}
        for key, value in RECBOLE.get(name, {}).items():
            row[f"recbole_{key}"] = value
        rows.append(row)
    print("\n" + markdown_table(rows, ["model", "recall@10", "recbole_recall@10", "ndcg@10", "recbole_ndcg@10",
                                       "hr@10", "recbole_hr@10", "s_per_epoch", "recbole_s_per_epoch", "best_epoch"]))
    write_json(args.out, {"protocol": "ml-100k, per-user random 80/10/10, full ranking @10", "rows": rows})


if __name__ == "__main__":
    main()
