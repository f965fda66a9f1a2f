"""The NCF paper's protocol on real data: leave-one-out by time (latest interaction per user is the
test item, the one before it the validation item), the test item ranked among it + 99 sampled items
the user never touched, HR@10 and NDCG@10. One table: popularity, GMF, MLP, NeuMF without and with
pre-training, and dot-product MF tuned on the validation item (never on test).

Every model: the NCF official defaults (batch 256, 4 negatives, Adam lr 0.001, layers 64-32-16-8,
predictive factors 32), at most ``--epochs`` epochs with early stopping on validation NDCG@10.

    python -m benchmarks.ncf_table --dataset ml-100k --dataset amazon-beauty-s3rec
"""

from __future__ import annotations

import time
from dataclasses import replace

from benchmarks.common import dataset_table_cli, markdown_table, shared_data, write_json
from training.config import TrainConfig
from training.data.sources import DataSpec, open_dataset
from training.trainer import train

DATASETS = {"ml-100k": ("ml-100k", "movielens"), "amazon-beauty-s3rec": ("amazon-beauty-s3rec/Beauty.txt", "sequence")}
MF_GRID = [{"embedding_dim": 64, "lr": 0.001}, {"embedding_dim": 64, "lr": 0.003}, {"embedding_dim": 128, "lr": 0.002}]


def candidates(epochs: int, seed: int) -> list[tuple[str, TrainConfig]]:
    base = TrainConfig(model="gmf", protocol="sampled", metric="ndcg@10", epochs=epochs, patience=3, seed=seed,
                       ks=(10,), device="cpu")
    plans = [("Popularity", replace(base, model="pop", epochs=0)),
             ("GMF", replace(base, model="gmf")),
             ("MLP", replace(base, model="mlp")),
             ("NeuMF (no pre-training)", replace(base, model="neumf")),
             ("NeuMF (pre-trained GMF+MLP)", replace(base, model="neumf", pretrain=True))]
    plans += [(f"MF dim {g['embedding_dim']} lr {g['lr']}", replace(base, model="mf", **g)) for g in MF_GRID]
    return plans


def run_dataset(name: str, epochs: int, seed: int) -> list[dict[str, object]]:
    relative, fmt = DATASETS[name]
    data = open_dataset(DataSpec(path=str(shared_data(relative)), format=fmt, split="loo", seed=seed))
    print(f"\n### {name}: {data.summary()}", flush=True)
    rows = []
    for label, config in candidates(epochs, seed):
        started = time.perf_counter()
        result = train(data, config, progress=False, echo=lambda s: print("  " + s, flush=True))
        rows.append({"dataset": name, "model": label, "hr@10": result.test_metrics["hr@10"],
                     "ndcg@10": result.test_metrics["ndcg@10"],
                     "valid_ndcg@10": result.valid_metrics.get("ndcg@10", float("nan")),
                     "best_epoch": result.best_epoch, "s_per_epoch": result.seconds_per_epoch,
                     "wall_s": time.perf_counter() - started})
        print(f"{label}: HR@10 {rows[-1]['hr@10']:.4f} NDCG@10 {rows[-1]['ndcg@10']:.4f}", flush=True)
    mf_rows = [r for r in rows if str(r["model"]).startswith("MF ")]
    best = max(mf_rows, key=lambda r: r["valid_ndcg@10"])
    for r in mf_rows:
        r["model"] = ("MF tuned: " if r is best else "(MF grid) ") + str(r["model"])[3:]
    return rows


def main() -> None:
    args = dataset_table_cli(__doc__, DATASETS, epochs=20, out_name="ncf_table.json")
    rows = []
    for name in args.dataset:
        rows += run_dataset(name, args.epochs, args.seed)
    print("\n" + markdown_table(rows, ["dataset", "model", "hr@10", "ndcg@10", "valid_ndcg@10", "best_epoch",
                                       "s_per_epoch", "wall_s"]))
    write_json(args.out, {"protocol": "leave-one-out by time, 1 test item vs 99 sampled negatives, ties count "
                                      "against the model; model selection on the validation item",
                          "rows": rows})


if __name__ == "__main__":
    main()
