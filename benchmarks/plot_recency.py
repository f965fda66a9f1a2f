"""Recency-weighted pairs on Gowalla in three panels: the weights along one user's line (linear W = 6
and exponential W = 4, each averaging 1); the tail hold-out Recall@20 each W gave, which chose them;
and test.txt Recall@20 per seed for unweighted, linear and exponential pairs beside the paper's.
Reads the JSON files ``benchmarks.lightgcn_paper --recency-weight`` wrote; trains nothing.

    python -m benchmarks.plot_recency
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from benchmarks.common import results_plot_cli
from training.plotting import saved_figure
from training.recency import recency_weights

# (label, recency weight, shape): the settings the docs compare
CHOSEN = (("unweighted", 0.0, "linear"), ("linear, W = 6", 6.0, "linear"), ("exponential, W = 4", 4.0, "exponential"))
# the files each panel reads by shape (the exponential rows were run as a patch before the option
# existed, so their rows carry no shape; the option reproduced them to every digit), all 23-epoch
# runs with the hardest of 32 negatives; only the plain model's rows are drawn
SELECTION_FILES = {"linear": ("cpu-gowalla-recency-weighted-selection.json",
                              "cpu-gowalla-recency-weighted-check-selection.json"),
                   "exponential": ("cpu-gowalla-recency-exponential-patch-selection.json",),
                   "reference": ("cpu-gowalla-hard-negatives-k64-23-epochs-selection.json",)}
TEST_FILES = {"linear": ("cpu-gowalla-recency-weighted.json", "cpu-gowalla-recency-weighted-seeds.json"),
              "exponential": ("cpu-gowalla-recency-exponential-patch.json",)}


def _plain_rows(results: Path, names: tuple[str, ...]) -> list[dict[str, object]]:
    """The plain model's rows (no recent item in the query) of these files, the seed defaulting to
    0 for files written before the benchmark recorded it."""
    rows = []
    for name in names:
        path = results / name
        if not path.exists():
            raise SystemExit(f"{path} not found: run benchmarks.lightgcn_paper with --recency-weight first "
                             "(the commands are in docs/benchmarks.md#recency-weighted-pairs)")
        rows += [{**row, "seed": row.get("seed") or 0, "recency_weight": row.get("recency_weight") or 0.0}
                 for row in json.loads(path.read_text())["rows"] if not row["recent_item_weight"]]
    return rows


def _weights_panel(axis) -> None:
    users = np.zeros(101, dtype=np.int64)  # one user's line of 101 pairs, in order
    place = np.linspace(0, 1, len(users))
    for label, weight, shape in CHOSEN:
        axis.plot(place, recency_weights(users, None, weight, shape), label=label)
    axis.set_title("each pair's weight along its user's line")
    axis.set_xlabel("place along the line (0 the first pair, 1 the last)")
    axis.set_ylabel("loss weight (mean 1)")
    axis.legend(fontsize=8)


def _selection_panel(axis, results: Path) -> None:
    reference = _plain_rows(results, SELECTION_FILES["reference"])
    reference_recall = next(float(row["recall@20"]) for row in reference if row.get("hard_negatives") == 32)
    weights: set[float] = set()
    for shape, marker in (("linear", "o-"), ("exponential", "s-")):
        rows = sorted(_plain_rows(results, SELECTION_FILES[shape]), key=lambda row: float(row["recency_weight"]))
        axis.plot([row["recency_weight"] for row in rows], [row["recall@20"] for row in rows], marker, label=shape)
        weights.update(float(row["recency_weight"]) for row in rows)
    axis.axhline(reference_recall, color="grey", linestyle=":", label="unweighted")
    axis.set_xscale("log")
    ticks = sorted(weights)
    axis.set_xticks(ticks, [f"{weight:g}" for weight in ticks], minor=False)
    axis.set_xticks([], minor=True)
    axis.set_title("choosing W: the last 20% of each train.txt line")
    axis.set_xlabel("recency weight W")
    axis.set_ylabel("hold-out Recall@20")
    axis.legend(fontsize=8)


def _test_panel(axis, results: Path) -> None:
    rows = [{**row, "shape": shape} for shape, names in TEST_FILES.items() for row in _plain_rows(results, names)]
    for x, (label, weight, shape) in enumerate(CHOSEN):
        recalls = [float(row["recall@20"]) for row in rows
                   if float(row["recency_weight"]) == weight and (not weight or row["shape"] == shape)]
        if not recalls:
            raise SystemExit(f"no test.txt row for {label} in {', '.join(sum(TEST_FILES.values(), ()))}")
        mean = float(np.mean(recalls))
        axis.plot([x] * len(recalls), recalls, "o", color="tab:blue", alpha=0.6)
        axis.plot([x - 0.2, x + 0.2], [mean] * 2, color="tab:red")
        axis.annotate(f"{mean:.4f}", (x + 0.22, mean), fontsize=8, va="center")
    axis.axhline(float(rows[0]["paper_recall@20"]), color="grey", linestyle="--", label="paper (1000 epochs)")
    axis.plot([], [], "o", color="tab:blue", alpha=0.6, label="one seed")
    axis.plot([], [], color="tab:red", label="mean of the seeds")
    axis.set_xticks(range(len(CHOSEN)), [label for label, _, _ in CHOSEN], fontsize=8)
    axis.set_xlim(-0.5, len(CHOSEN) - 0.3)
    axis.set_title("test.txt, 23 epochs on 2 CPU cores")
    axis.set_ylabel("Recall@20")
    axis.legend(fontsize=8, loc="lower right")


def plot(results: Path, out: Path) -> None:
    with saved_figure(out, ncols=3, figsize=(16, 4.2)) as (_, axes):
        _weights_panel(axes[0])
        _selection_panel(axes[1], results)
        _test_panel(axes[2], results)
    print(f"wrote {out}")


def main() -> None:
    results_plot_cli(__doc__, plot, "cpu-gowalla-recency.png")


if __name__ == "__main__":
    main()
