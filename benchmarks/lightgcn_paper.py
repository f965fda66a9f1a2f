"""LightGCN on the paper's own Gowalla / Yelp2018 splits, full ranking, Recall@20 and NDCG@20.

Each schedule (batch size, learning rate, epoch budget) and each ``--loss`` (BPR, the paper's, or a
sampled softmax over cosine similarities) and each ``--hard-negatives K`` (BPR against the hardest of
K candidates, dynamic negative sampling) trains from scratch. Model selection never
looks at the test set: with ``--valid`` (default) one training interaction per user is held out
and early stopping / the reported epoch use it; with ``--no-valid`` the model trains on all
training data for the fixed budget and the last epoch is reported. Test metrics are computed once,
at the end. Prints a table and writes JSON (and the per-epoch validation curves as a PNG).

``--recent-item-weight W`` (repeatable) adds a row per weight for the same trained model ranking
with each user's most recent item (the last of its train.txt line) blended into its vector
(core/recent_item.py). Choose the weight on a ``--tail-holdout`` run, which never reads test.txt,
and report test.txt only for the weight chosen there.

    python benchmarks/lightgcn_paper.py --dataset gowalla --schedule 2048:0.001:40 --schedule 8192:0.01:40
    python -m benchmarks.lightgcn_paper --schedule 16384:0.02:1000 --loss softmax --loss bpr --time-budget 300
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from benchmarks.common import REPO, markdown_table, shared_data, write_json
from core.recent_item import last_items
from models.lightgcn import LightGCN
from training import evaluation
from training.config import LR_SCHEDULES, TrainConfig
from training.data.dataset import Dataset
from training.data.sources import DataSpec, open_dataset
from training.plotting import saved_figure
from training.recency import RECENCY_SHAPES, history_ranks
from training.trainer import train

PAPER = {"gowalla": {"recall@20": 0.1830, "ndcg@20": 0.1554}, "yelp2018": {"recall@20": 0.0649, "ndcg@20": 0.0530}}


def parse_schedule(text: str) -> tuple[int, float, int]:
    batch, lr, epochs = text.split(":")
    return int(batch), float(lr), int(epochs)


BUDGET: dict[str, float | None] = {"seconds": None}


def run(dataset_name: str, schedules: list[tuple[int, float, int]], with_valid: bool, eval_every: int,
        patience: int, device: str, reg: float, svd_scales: list[float], lr_schedule: str,
        loss: str = "bpr", negatives: int | None = None, temperature: float = 0.1,
        random_holdout: float = 0.0, tail_holdout: float = 0.0,
        recent_weights: tuple[float, ...] = (), hard_negatives: int = 1,
        hard_negative_rank: int = 1, hard_negatives_share: float = 1.0, layers: int = 3,
        hard_negative_mixing: bool = False, recency_weight: float = 0.0, seed: int = 0,
        recency_shape: str = "linear") -> list[dict[str, object]]:
    started = time.perf_counter()
    data = open_dataset(DataSpec(path=str(shared_data(f"{dataset_name}-lightgcn")), with_valid=with_valid))
    target = "test.txt"
    if random_holdout > 0:
        data = hold_out_training_pairs(data, random_holdout)
        target = f"random {random_holdout:.0%} of train.txt"
    if tail_holdout > 0:
        data = hold_out_line_tails(data, tail_holdout)
        target = f"last {tail_holdout:.0%} of each train.txt line"
    print(f"{dataset_name}: {data.summary()} (loaded in {time.perf_counter() - started:.1f}s)", flush=True)
    rows = []
    for (batch, lr, epochs), svd_scale in ((schedule, scale) for schedule in schedules for scale in svd_scales):
        config = TrainConfig(model="lightgcn", batch_size=batch, lr=lr, epochs=epochs, eval_every=eval_every,
                             patience=patience, device=device, reg=reg, ks=(20,), eval_batch_users=2048,
                             time_budget_s=BUDGET["seconds"], svd_init_scale=svd_scale, lr_schedule=lr_schedule,
                             loss=loss, num_negatives=negatives, temperature=temperature,
                             hard_negatives=hard_negatives, hard_negative_rank=hard_negative_rank,
                             hard_negatives_share=hard_negatives_share, n_layers=layers,
                             hard_negative_mixing=hard_negative_mixing, recency_weight=recency_weight,
                             recency_shape=recency_shape, seed=seed)
        start = f"SVD initialisation x {svd_scale:g}" if svd_scale else "random initialisation"
        objective = (f"sampled softmax ({negatives or 'default'} negatives, t={temperature:g})" if loss == "softmax"
                     else "BPR" if hard_negatives == 1
                     else f"BPR, a negative mixed from {hard_negatives} candidates (MixGCF)" if hard_negative_mixing
                     else f"BPR, the hardest of {hard_negatives} negatives" if hard_negative_rank == 1
                     else f"BPR, the negative ranked {hard_negative_rank} of {hard_negatives} by score")
        if loss == "bpr" and hard_negatives > 1 and hard_negatives_share < 1:
            objective += f" for the first {hard_negatives_share:.0%} of the training, uniform after"
        if recency_weight:
            weighting = (f"1 + {recency_weight:g} x" if recency_shape == "linear" else f"e^({recency_weight:g} x")
            closing = "" if recency_shape == "linear" else ")"
            objective += f", pairs weighted {weighting} their place along the line{closing}"
        print(f"\n== {layers} layers, batch {batch}, lr {lr} ({lr_schedule}), {epochs} epochs, {objective}, {start}, "
              f"seed {seed} ==",
              flush=True)
        wall = time.perf_counter()
        result = train(data, config, progress=False, echo=lambda s: print(s, flush=True))
        wall = time.perf_counter() - wall
        rows.append({
            "dataset": dataset_name, "layers": layers, "batch": batch, "lr": lr, "lr_schedule": lr_schedule,
            "init": start,
            "target": target, "loss": loss, "negatives": result.config.num_negatives if loss == "softmax" else 1,
            "temperature": temperature if loss == "softmax" else None,
            "hard_negatives": hard_negatives if loss == "bpr" else None,
            "hard_negative_rank": hard_negative_rank if loss == "bpr" else None,
            "hard_negatives_share": hard_negatives_share if loss == "bpr" else None,
            "hard_negative_mixing": hard_negative_mixing if loss == "bpr" else None,
            "recency_weight": recency_weight, "recency_shape": recency_shape if recency_weight else None,
            "seed": seed,
            "epochs_run": len(result.history),
            "best_epoch": result.best_epoch, "recall@20": result.test_metrics["recall@20"],
            "ndcg@20": result.test_metrics["ndcg@20"], "valid_recall@20": result.valid_metrics.get("recall@20"),
            "s_per_epoch": result.seconds_per_epoch, "train_s": result.train_seconds, "wall_s": wall,
            "paper_recall@20": PAPER[dataset_name]["recall@20"], "paper_ndcg@20": PAPER[dataset_name]["ndcg@20"],
            "curve": [(h["epoch"], h.get("valid_recall@20")) for h in result.history if "valid_recall@20" in h],
        })
        rows[-1]["recent_item_weight"] = 0.0
        print(f"test recall@20 {rows[-1]['recall@20']:.4f} ndcg@20 {rows[-1]['ndcg@20']:.4f} "
              f"(paper {PAPER[dataset_name]['recall@20']:.4f} / {PAPER[dataset_name]['ndcg@20']:.4f}); "
              f"{wall:.0f}s wall", flush=True)
        rows += with_recent_items(result.model, data, rows[-1], recent_weights)
    return rows


def hard_negative_choice(text: str) -> tuple[int, int, float, bool]:
    """``K``, ``K:N``, ``K:mix`` and any with ``@S``: K candidates per pair, the N-th highest-scored
    trains (default 1, the hardest) or, with ``mix``, a negative synthesised from them (MixGCF), for
    the first share S of the training (default 1: all of it)."""
    choice_text, at, share_text = text.partition("@")
    count, colon, rank = choice_text.partition(":")
    mix = rank == "mix"
    try:
        choice = int(count), 1 if mix else int(rank if colon else 1), float(share_text if at else 1.0), mix
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected K, K:N, K:mix or any with @S (K, N whole numbers, S a share), "
                                         f"got '{text}'") from None
    if not 1 <= choice[1] <= choice[0] or (mix and choice[0] < 2):
        raise argparse.ArgumentTypeError(f"K:N needs 1 <= N <= K and K:mix K >= 2, got '{text}'")
    if not 0 < choice[2] <= 1:
        raise argparse.ArgumentTypeError(f"@S takes a share of the training in (0, 1], got '{text}'")
    return choice


def with_recent_items(model: LightGCN, data: Dataset, plain: dict[str, object],
                      weights: tuple[float, ...]) -> list[dict[str, object]]:
    """The same trained model ranking with each user's most recent training item (the last of its
    train.txt line) blended into its vector at each weight (core/recent_item.py), one row each."""
    train_part = data.train
    recent = last_items(train_part.users, train_part.items, data.n_users, train_part.timestamps)
    exclude = [train_part] + ([data.valid] if data.valid is not None else [])
    rows = []
    for weight in weights:
        model.set_recent_items(recent, weight)
        metrics = evaluation.full_ranking(model, data.test, exclude, [20], batch_users=2048,
                                          device=model.embedding.weight.device)
        rows.append({**plain, "recent_item_weight": weight, "recall@20": metrics["recall@20"],
                     "ndcg@20": metrics["ndcg@20"], "curve": []})
        print(f"  recent item at weight {weight:g}: recall@20 {metrics['recall@20']:.4f} "
              f"ndcg@20 {metrics['ndcg@20']:.4f}", flush=True)
    model.set_recent_items(recent, 0.0)
    return rows


def hold_out_training_pairs(data: Dataset, fraction: float, seed: int = 7) -> Dataset:
    """The evaluation target becomes ``fraction`` of the training pairs drawn at random (test.txt is
    not read at all): what a random split of this data would measure, for comparing with the
    paper's own split."""
    held = np.random.default_rng(seed).random(len(data.train)) < fraction
    return replace(data, train=data.train.take(~held), valid=None, test=data.train.take(held))


def hold_out_line_tails(data: Dataset, fraction: float) -> Dataset:
    """The evaluation target becomes the last ``fraction`` of each user's training line (at least one
    item, and never the line's first; test.txt is not read). The lines of both papers' train.txt
    look chronological: along a line the items' popularity drifts the way test.txt's differs from
    train.txt's (benchmarks/split_popularity.py), so a line's tail is a hold-out shaped like the test
    split, made from training data alone."""
    position, size = history_ranks(data.train.users)  # the loader keeps each line's order
    held_count = np.where(size > 1, np.maximum(1, np.ceil(size * fraction).astype(np.int64)), 0)
    held = position >= size - np.minimum(held_count, size - 1)
    return replace(data, train=data.train.take(~held), valid=None, test=data.train.take(held))


def plot(rows: list[dict[str, object]], path: Path) -> None:
    with saved_figure(path) as (_, ax):
        for row in rows:
            curve = row["curve"]
            if curve:
                epoch_s = row["s_per_epoch"]
                ax.plot([e * epoch_s / 60 for e, _ in curve], [v for _, v in curve], marker=".",
                        label=f"{row['dataset']} {row.get('loss', 'bpr')}, batch {row['batch']} lr {row['lr']}, "
                              f"{row.get('init', 'random')}")
        ax.set_xlabel("training minutes")
        ax.set_ylabel("validation recall@20")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", action="append", choices=tuple(PAPER), help="repeatable; default gowalla")
    parser.add_argument("--schedule", action="append", type=parse_schedule,
                        help="batch:lr:epochs, repeatable (default 2048:0.001:30)")
    parser.add_argument("--no-valid", action="store_true", help="train on all training data; report the last epoch")
    parser.add_argument("--eval-every", type=int, default=5)
    parser.add_argument("--patience", type=int, default=3)
    parser.add_argument("--reg", type=float, default=1e-4)
    parser.add_argument("--layers", type=int, default=3, help="propagation layers (default 3, the paper's settings)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--svd-init-scale", type=float, action="append",
                        help="repeatable: also run each schedule from the interaction matrix's top singular vectors "
                             "times this scale (0: random initialisation, the default)")
    parser.add_argument("--lr-schedule", choices=LR_SCHEDULES, default="constant",
                        help="cosine: anneal the learning rate towards 0 over --time-budget, else over the epochs")
    parser.add_argument("--loss", action="append", choices=("bpr", "softmax"),
                        help="repeatable (each trains every schedule; one plot holds all): bpr, the paper's "
                             "(one negative per pair, the default); softmax, cosine sampled softmax")
    parser.add_argument("--negatives", type=int,
                        help="softmax: items drawn per batch, shared by its rows (default 1024)")
    parser.add_argument("--hard-negatives", type=hard_negative_choice, action="append", metavar="K[:N|:mix][@S]",
                        help="repeatable: bpr draws K candidates per pair and trains on the one the model scores "
                             "highest (dynamic negative sampling), or with :N its N-th highest, with :mix on a "
                             "negative mixed from them layer by layer (MixGCF), and with @S only "
                             "for the first share S of the training (the uniform draw after); 1, the default: "
                             "the paper's uniform draw")
    parser.add_argument("--temperature", type=float, default=0.1, help="softmax: the cosine similarities' temperature")
    parser.add_argument("--recency-weight", type=float, action="append", metavar="W",
                        help="repeatable (each trains): bpr weighs each pair by 1 + W x its place along its user's "
                             "train.txt line (0 first, 1 last), mean 1; 0, the default: every pair alike")
    parser.add_argument("--recency-shape", choices=RECENCY_SHAPES, default="linear",
                        help="the --recency-weight W's shape: linear (1 + W x place, the default) or exponential "
                             "(e^(W x place)), mean 1")
    parser.add_argument("--seed", type=int, action="append", metavar="S",
                        help="repeatable (each trains): the training seed, which sets the initialisation and "
                             "every draw of pairs and negatives; default 0")
    parser.add_argument("--tail-holdout", type=float, default=0.0, metavar="FRACTION",
                        help="evaluate on the last FRACTION of each user's train.txt line instead of test.txt "
                             "(a hold-out shaped like the papers' test split; with --no-valid)")
    parser.add_argument("--random-holdout", type=float, default=0.0, metavar="FRACTION",
                        help="evaluate on this share of the training pairs held out at random instead of "
                             "test.txt (with --no-valid): the paper's split against a random one")
    parser.add_argument("--recent-item-weight", type=float, action="append", default=[], metavar="W",
                        help="repeatable: also rank with each user's most recent training item (its line's last) "
                             "blended into its vector at weight W, one row per weight from the same trained model")
    parser.add_argument("--time-budget", type=float, help="training seconds per schedule (stops after that epoch)")
    parser.add_argument("--out", type=Path, default=REPO / "bench-results" / "lightgcn_paper.json")
    args = parser.parse_args()
    if args.random_holdout and (not args.no_valid or not 0 < args.random_holdout < 1):
        parser.error("--random-holdout takes a fraction between 0 and 1, with --no-valid")
    if args.tail_holdout and (not args.no_valid or not 0 < args.tail_holdout < 1 or args.random_holdout):
        parser.error("--tail-holdout takes a fraction between 0 and 1, with --no-valid and without --random-holdout")
    if any(weight <= 0 for weight in args.recent_item_weight):
        parser.error("--recent-item-weight takes weights > 0 (the plain model's row is always there)")
    if any(weight < 0 for weight in args.recency_weight or []):
        parser.error("--recency-weight takes weights >= 0 (0: every pair alike)")
    BUDGET["seconds"] = args.time_budget
    rows = []
    for name in args.dataset or ["gowalla"]:
        for loss, (hard, rank, share, mix), recency, seed in (
                (loss, hard, recency, seed) for loss in args.loss or ["bpr"]
                for hard in args.hard_negatives or [(1, 1, 1.0, False)] for recency in args.recency_weight or [0.0]
                for seed in args.seed or [0]):
            rows += run(name, args.schedule or [(2048, 0.001, 30)], not args.no_valid, args.eval_every,
                        args.patience, args.device, args.reg, args.svd_init_scale or [0.0], args.lr_schedule,
                        loss, args.negatives, args.temperature, args.random_holdout, args.tail_holdout,
                        tuple(args.recent_item_weight), hard, rank, share, args.layers, mix, recency, seed,
                        recency_shape=args.recency_shape)
    columns = ["dataset", "target", "layers", "loss", "hard_negatives", "hard_negative_rank", "hard_negative_mixing",
               "hard_negatives_share", "recency_weight", "recency_shape", "seed",
               "batch", "lr", "lr_schedule", "init", "epochs_run", "best_epoch", "recent_item_weight", "recall@20",
               "ndcg@20", "paper_recall@20", "paper_ndcg@20", "s_per_epoch", "wall_s"]
    print("\n" + markdown_table(rows, columns))
    write_json(args.out, {"protocol": "LightGCN paper split, full ranking excluding training items",
                          "selection": "validation hold-out" if not args.no_valid else "fixed budget, last epoch",
                          "rows": rows})
    if any(row["curve"] for row in rows):  # --no-valid runs have no validation curve to draw
        plot(rows, args.out.with_suffix(".png"))


if __name__ == "__main__":
    main()
