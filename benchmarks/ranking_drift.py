"""How a LightGCN model's hold-out recall and the popularity of what it recommends move along its
training: Gowalla (or Yelp2018) with the last 20% of each train.txt line held out (test.txt is not
read), one row every ``--every`` epochs of one fixed-length run per negative draw.

Each checkpoint, off the training clock, reports Recall@20 and NDCG@20 on the hold-out, the mean
log(1 + training count) of every user's top 20 (the popularity of what the model recommends; the
hold-out items' own mean is printed beside it) and the mean length of the final user and item
vectors. Written to find out why BPR on hard negatives peaks after about 20 epochs and then loses
(docs/benchmarks.md, "Hard negatives for BPR").

    python -m benchmarks.ranking_drift --hard-negatives 32 --epochs 40 --every 5
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks.common import REPO, markdown_table, shared_data, write_json
from benchmarks.lightgcn_paper import hard_negative_choice, hold_out_line_tails
from models.base import Recommender
from training import evaluation
from training.config import TrainConfig
from training.data.dataset import Dataset
from training.data.sources import DataSpec, open_dataset
from training.plotting import saved_figure
from training.trainer import train


def top_popularity(user_vectors: torch.Tensor, item_vectors: torch.Tensor, seen: evaluation.UserItems,
                   log_count: np.ndarray, k: int = 20, batch_users: int = 2048) -> float:
    """Mean log(1 + training count) over every user's top ``k`` items by inner product, the items
    in ``seen`` (the user's training items) excluded."""
    weights = torch.from_numpy(log_count.astype(np.float32))
    total = 0.0
    for start in range(0, len(user_vectors), batch_users):
        users = torch.arange(start, min(start + batch_users, len(user_vectors)))
        scores = user_vectors[users] @ item_vectors.T
        rows, items = seen.gather(users)
        scores[rows, items] = -torch.inf
        total += float(weights[scores.topk(k, dim=1).indices].mean(1).sum())
    return total / len(user_vectors)


def run(data: Dataset, hard_negatives: tuple[int, int, float, bool], epochs: int, every: int,
        log_count: np.ndarray) -> list[dict[str, object]]:
    count, rank, share, mix = hard_negatives
    config = TrainConfig(model="lightgcn", batch_size=16384, lr=0.01, lr_schedule="cosine", epochs=epochs,
                         eval_every=epochs + 1, device="cpu", reg=1e-4, ks=(20,), eval_batch_users=2048,
                         hard_negatives=count, hard_negative_rank=rank, hard_negatives_share=share,
                         hard_negative_mixing=mix)
    draw = "uniform" if count == 1 else f"{count}:mix" if mix else f"{count}" if rank == 1 else f"{count}:{rank}"
    rows: list[dict[str, object]] = []
    seen = evaluation.UserItems([data.train], data.n_users, "cpu")

    def observe(row: dict[str, float], model: Recommender) -> dict[str, float]:
        epoch = int(row["epoch"])
        if epoch % every and epoch != epochs:
            return {}
        metrics = evaluation.full_ranking(model, data.test, [data.train], [20], batch_users=2048)
        users, items = (vectors.float() for vectors in model.query_embeddings())
        point = {"draw": draw, "epoch": epoch, "recall@20": metrics["recall@20"], "ndcg@20": metrics["ndcg@20"],
                 "top20_log_count": top_popularity(users, items, seen, log_count),
                 "user_length": float(users.norm(dim=1).mean()), "item_length": float(items.norm(dim=1).mean())}
        model.train()
        rows.append(point)
        print(f"[{draw}] epoch {epoch}: recall@20 {point['recall@20']:.4f}, top-20 log count "
              f"{point['top20_log_count']:.3f}, user length {point['user_length']:.2f}", flush=True)
        return {}

    print(f"\n== {draw}: {epochs} epochs, batch 16384, lr 0.01 annealed over them ==", flush=True)
    train(data, config, progress=False, echo=lambda line: print(line, flush=True), observe=observe)
    return rows


def plot(rows: list[dict[str, object]], held_out_log_count: float, path: Path) -> None:
    with saved_figure(path, ncols=2, figsize=(10, 4)) as (_, (recall_ax, popularity_ax)):
        for draw in dict.fromkeys(row["draw"] for row in rows):
            points = [row for row in rows if row["draw"] == draw]
            epochs = [row["epoch"] for row in points]
            label = "uniform draw" if draw == "uniform" else f"hard negatives, {draw}"
            recall_ax.plot(epochs, [row["recall@20"] for row in points], marker=".", label=label)
            popularity_ax.plot(epochs, [row["top20_log_count"] for row in points], marker=".", label=label)
        popularity_ax.axhline(held_out_log_count, color="grey", linestyle="--", label="held-out items")
        recall_ax.set_ylabel("hold-out Recall@20")
        popularity_ax.set_ylabel("mean log(1 + training count) of the top 20")
        for ax in (recall_ax, popularity_ax):
            ax.set_xlabel("epoch")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="gowalla", choices=("gowalla", "yelp2018"))
    parser.add_argument("--hard-negatives", type=hard_negative_choice, action="append", metavar="K[:N|:mix][@S]",
                        help="repeatable, as in benchmarks.lightgcn_paper (default: 1, the uniform draw, and 32)")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--every", type=int, default=5)
    parser.add_argument("--out", type=Path, default=REPO / "bench-results" / "ranking_drift.json")
    args = parser.parse_args()
    if args.epochs < 1 or args.every < 1:
        parser.error("--epochs and --every take whole numbers >= 1")
    started = time.perf_counter()
    data = hold_out_line_tails(open_dataset(DataSpec(path=str(shared_data(f"{args.dataset}-lightgcn")),
                                                     with_valid=False)), 0.2)
    log_count = np.log1p(np.bincount(data.train.items, minlength=data.n_items).astype(np.float64))
    held_out = float(log_count[data.test.items].mean())
    print(f"{args.dataset}: {data.summary()} (loaded in {time.perf_counter() - started:.1f}s); held-out items' "
          f"mean log(1 + training count) {held_out:.3f}, training pairs' {log_count[data.train.items].mean():.3f}",
          flush=True)
    rows: list[dict[str, object]] = []
    for choice in args.hard_negatives or [(1, 1, 1.0, False), (32, 1, 1.0, False)]:
        rows += run(data, choice, args.epochs, args.every, log_count)
    print("\n" + markdown_table(rows))
    write_json(args.out, {"protocol": f"{args.dataset}, last 20% of each train.txt line held out; batch 16384, "
                                      f"lr 0.01 cosine over {args.epochs} epochs, 3 layers, CPU",
                          "held_out_log_count": held_out, "rows": rows})
    plot(rows, held_out, args.out.with_suffix(".png"))
    print(f"wrote {args.out.with_suffix('.png')}")


if __name__ == "__main__":
    main()
