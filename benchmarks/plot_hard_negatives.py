"""Recall@20 against training time for LightGCN's BPR with uniform and with hard negatives (Gowalla
or Yelp2018, 2 CPU cores): one line per candidate count K through the selection runs (the last 20%
of each train.txt line held out), one panel for the plain model and one with the most recent item
in the query (at the weight chosen for the dataset), and the test.txt runs as separate markers.
Reads the JSON files that ``benchmarks.lightgcn_paper --hard-negatives`` wrote; trains nothing.

    python -m benchmarks.plot_hard_negatives [--dataset yelp2018]
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

from benchmarks.common import RESULTS
from training.plotting import saved_figure

# The uniform-negative selection run at 15 minutes predates --hard-negatives; its rows have K = 1.
DEFAULT_FILES = {
    "gowalla": ("cpu-gowalla-recent-item-selection.json", "cpu-gowalla-hard-negatives-3min-selection.json",
                "cpu-gowalla-hard-negatives-300s-selection.json", "cpu-gowalla-hard-negatives-480s-selection.json",
                "cpu-gowalla-hard-negatives-selection.json", "cpu-gowalla-recent-item.json",
                "cpu-gowalla-hard-negatives.json"),
    "yelp2018": ("cpu-yelp2018-hard-negatives-3min-selection.json",
                 "cpu-yelp2018-hard-negatives-3min-k64-selection.json",
                 "cpu-yelp2018-hard-negatives-300s-selection.json", "cpu-yelp2018-hard-negatives-480s-selection.json",
                 "cpu-yelp2018-hard-negatives.json"),
}
# name in titles, and the recent-item weight chosen for it on the selection runs
DATASETS = {"gowalla": ("Gowalla", 1.0), "yelp2018": ("Yelp2018", 0.25)}


def _rows(paths: list[Path]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for path in paths:
        if not path.exists():
            raise SystemExit(f"{path} not found: run benchmarks.lightgcn_paper with --hard-negatives first "
                             "(the commands are in docs/benchmarks.md)")
        rows.extend(json.loads(path.read_text())["rows"])
    return rows


def plot(paths: list[Path], out: Path, dataset: str = "gowalla") -> None:
    rows = _rows(paths)
    name, chosen = DATASETS[dataset]
    panels = ((0.0, "plain model"), (chosen, f"most recent item in the query (w = {chosen:g})"))
    with saved_figure(out, ncols=len(panels), figsize=(5.5 * len(panels), 4), sharey=True) as (_, axes):
        for axis, (weight, title) in zip(axes, panels, strict=True):
            selection: dict[int, list[tuple[float, float]]] = defaultdict(list)
            test: dict[int, list[tuple[float, float]]] = defaultdict(list)
            for row in rows:
                if float(row.get("recent_item_weight") or 0.0) != weight:
                    continue
                k = int(row.get("hard_negatives") or 1)
                point = (float(row["train_s"]) / 60, float(row["recall@20"]))
                (test if row.get("target") == "test.txt" else selection)[k].append(point)
            for k in sorted(selection):
                minutes, recall = zip(*sorted(selection[k]), strict=True)
                axis.plot(minutes, recall, "o-", label=f"selection, K = {k}" + (" (uniform)" if k == 1 else ""))
            for k in sorted(test):
                minutes, recall = zip(*sorted(test[k]), strict=True)
                axis.plot(minutes, recall, "s", markersize=8, label=f"test.txt, K = {k}")
            paper = next((row["paper_recall@20"] for row in rows if row.get("paper_recall@20")), None)
            if paper is not None:
                axis.axhline(float(paper), color="grey", linestyle="--", label="paper (1000 epochs)")
            axis.set_title(f"{name}, BPR, {title}", fontsize=10)
            axis.set_xlabel("training minutes (2 CPU cores, lr annealed over the budget)")
            axis.set_ylabel("Recall@20")
            axis.legend(fontsize=7)
    print(f"wrote {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="*", type=Path, help="JSON files from benchmarks.lightgcn_paper "
                        "(default: the dataset's hard-negative runs in benchmarks/results)")
    parser.add_argument("--dataset", choices=tuple(DATASETS), default="gowalla")
    parser.add_argument("--out", type=Path, help="default: benchmarks/results/cpu-DATASET-hard-negatives.png")
    args = parser.parse_args()
    plot(args.files or [RESULTS / name for name in DEFAULT_FILES[args.dataset]],
         args.out or RESULTS / f"cpu-{args.dataset}-hard-negatives.png", args.dataset)


if __name__ == "__main__":
    main()
