"""How the LightGCN paper's test items differ from its training items in popularity.

A model that ranks by cosine (the sampled-softmax LightGCN) cannot carry an item's popularity in its
vector's length, as BPR's inner products do, so a test split that favours popular items more than
a random hold-out would cost it recall that a random hold-out from the training data does not show.
For each dataset this prints, and writes as JSON, the mean and median training popularity of the
items in the test pairs against the training pairs', next to the same comparison for a random 20%
hold-out of the training pairs (popularity counted on the rest), the share of test pairs whose
item lies in the training data's top 1% / 10% most popular items, and the same ratio for the first
and the last tenth of each user's train.txt line (the loader keeps each line's order): if the lines
are chronological and test.txt continues them, the popularity drifts along a line the way the
test split's differs, and the last tenth is the hold-out shaped like the test split
(`benchmarks.lightgcn_paper --tail-holdout`).

    python -m benchmarks.split_popularity
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import numpy as np

from benchmarks.common import REPO, markdown_table, shared_data, write_json
from benchmarks.lightgcn_paper import hold_out_line_tails
from training.data.sources import DataSpec, open_dataset

DATASETS = ("gowalla", "yelp2018")


def _popular_share(popularity: np.ndarray, items: np.ndarray, top: float) -> float:
    cut = np.quantile(popularity, 1 - top)
    return float((popularity[items] > cut).mean())


def _line_part_ratio(data, fraction: float, first: bool) -> float:
    """Mean training popularity of the first or last ``fraction`` of each line's items over the rest's."""
    if first:  # the first part of a line is the last part of the reversed line
        order = np.arange(len(data.train))[::-1]
        data = replace(data, train=data.train.take(order))
    split = hold_out_line_tails(data, fraction)
    popularity = np.bincount(split.train.items, minlength=data.n_items)
    return float(popularity[split.test.items].mean() / popularity[split.train.items].mean())


def split_row(name: str, seed: int = 0) -> dict[str, object]:
    data = open_dataset(DataSpec(path=str(shared_data(f"{name}-lightgcn")), with_valid=False))
    train_items, test_items = data.train.items, data.test.items
    popularity = np.bincount(train_items, minlength=data.n_items)
    held = np.random.default_rng(seed).random(len(train_items)) < 0.2
    rest_popularity = np.bincount(train_items[~held], minlength=data.n_items)
    return {
        "dataset": name, "train_pairs": len(train_items), "test_pairs": len(test_items),
        "test_mean_pop": float(popularity[test_items].mean()), "train_mean_pop": float(popularity[train_items].mean()),
        "test_median_pop": float(np.median(popularity[test_items])),
        "train_median_pop": float(np.median(popularity[train_items])),
        "paper_ratio": float(popularity[test_items].mean() / popularity[train_items].mean()),
        "random_holdout_ratio": float(rest_popularity[train_items[held]].mean()
                                      / rest_popularity[train_items[~held]].mean()),
        "test_top1%_share": _popular_share(popularity, test_items, 0.01),
        "train_top1%_share": _popular_share(popularity, train_items, 0.01),
        "test_top10%_share": _popular_share(popularity, test_items, 0.10),
        "train_top10%_share": _popular_share(popularity, train_items, 0.10),
        "line_first_10%_ratio": _line_part_ratio(data, 0.1, first=True),
        "line_last_10%_ratio": _line_part_ratio(data, 0.1, first=False),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", action="append", choices=DATASETS, help="repeatable; default both")
    parser.add_argument("--out", type=Path, default=REPO / "bench-results" / "split_popularity.json")
    args = parser.parse_args()
    rows = [split_row(name) for name in args.dataset or DATASETS]
    print(markdown_table(rows, ["dataset", "test_mean_pop", "train_mean_pop", "paper_ratio", "random_holdout_ratio",
                                "line_first_10%_ratio", "line_last_10%_ratio", "test_top1%_share",
                                "train_top1%_share", "test_top10%_share", "train_top10%_share"]))
    write_json(args.out, {"what": "training popularity of the items in test pairs vs training pairs", "rows": rows})


if __name__ == "__main__":
    main()
