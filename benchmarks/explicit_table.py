"""Explicit feedback: rating prediction error (RMSE, MAE) on real ratings.

Per-user random split 80/10/10 (seeded); models trained with mean squared error, early stopping on
validation RMSE, test RMSE/MAE reported once. The global-mean predictor is the reference row.

    python -m benchmarks.explicit_table
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from benchmarks.common import dataset_table_cli, markdown_table, shared_data, write_json
from training.config import TrainConfig
from training.data.sources import DataSpec, open_dataset
from training.trainer import train

DATASETS = {
    "amazon-musical-instruments-5core-2014": (
        "amazon-musical-instruments-5core-2014/reviews_Musical_Instruments_5.json.gz", "amazon"),
    "ml-100k": ("ml-100k", "movielens"),
}


def run_dataset(name: str, epochs: int, seed: int) -> list[dict[str, object]]:
    relative, fmt = DATASETS[name]
    data = open_dataset(DataSpec(path=str(shared_data(relative)), format=fmt, split="random", test_ratio=0.1,
                                 valid_ratio=0.1, feedback="explicit", seed=seed))
    print(f"\n### {name}: {data.summary()}", flush=True)
    mean = float(np.mean(data.train.ratings))
    error = data.test.ratings - mean
    rows = [{"dataset": name, "model": "global mean", "rmse": float(np.sqrt(np.mean(error ** 2))),
             "mae": float(np.mean(np.abs(error))), "best_epoch": 0, "wall_s": 0.0}]
    base = TrainConfig(model="mf", feedback="explicit", epochs=epochs, patience=5, batch_size=256, seed=seed,
                       device="cpu")
    plans = [("MF dim 32, L2 0.05", replace(base, model="mf", embedding_dim=32, lr=0.005, reg=0.05)),
             ("GMF", replace(base, model="gmf", lr=0.002)),
             ("MLP", replace(base, model="mlp", lr=0.002)),
             ("NeuMF", replace(base, model="neumf", lr=0.002))]
    for label, config in plans:
        started = time.perf_counter()
        result = train(data, config, progress=False, echo=lambda s: None)
        rows.append({"dataset": name, "model": label, "rmse": result.test_metrics["rmse"],
                     "mae": result.test_metrics["mae"], "best_epoch": result.best_epoch,
                     "wall_s": time.perf_counter() - started})
        print(f"{label}: RMSE {rows[-1]['rmse']:.4f} MAE {rows[-1]['mae']:.4f}", flush=True)
    return rows


def main() -> None:
    args = dataset_table_cli(__doc__, DATASETS, epochs=40, out_name="explicit_table.json")
    rows = []
    for name in args.dataset:
        rows += run_dataset(name, args.epochs, args.seed)
    print("\n" + markdown_table(rows, ["dataset", "model", "rmse", "mae", "best_epoch", "wall_s"]))
    write_json(args.out, {"protocol": "per-user random 80/10/10 split, early stopping on validation RMSE",
                          "rows": rows})


if __name__ == "__main__":
    main()
