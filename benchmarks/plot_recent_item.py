"""Recall@20 against the recent-item weight, one panel per dataset: the selection run's curve (the
last part of each train.txt line held out) and the test run's two points (the plain model and the
chosen weight), beside the paper's figure. Reads the JSON files that ``benchmarks.lightgcn_paper
--recent-item-weight`` wrote; trains nothing.

    python -m benchmarks.plot_recent_item
"""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.common import results_plot_cli
from training.plotting import saved_figure

DATASETS = ("gowalla", "yelp2018")


def _rows(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        raise SystemExit(f"{path} not found: run benchmarks.lightgcn_paper with --recent-item-weight first "
                         "(the commands are in docs/benchmarks.md)")
    return sorted(json.loads(path.read_text())["rows"], key=lambda row: float(row["recent_item_weight"]))


def plot(results: Path, out: Path) -> None:
    with saved_figure(out, ncols=len(DATASETS), figsize=(5.5 * len(DATASETS), 4)) as (_, axes):
        for axis, dataset in zip(axes, DATASETS, strict=True):
            selection = _rows(results / f"cpu-{dataset}-recent-item-selection.json")
            test = _rows(results / f"cpu-{dataset}-recent-item.json")
            axis.plot([r["recent_item_weight"] for r in selection], [r["recall@20"] for r in selection], "o-",
                      label=f"selection: {selection[0]['target']}")
            axis.plot([r["recent_item_weight"] for r in test], [r["recall@20"] for r in test], "s",
                      markersize=8, label="test.txt: plain and the chosen weight")
            axis.axhline(float(test[0]["paper_recall@20"]), color="grey", linestyle="--",
                         label="paper (1000 epochs)")
            axis.set_title(f"{dataset}, {test[0]['loss']}, 15 min on 2 CPU cores")
            axis.set_xlabel("recent-item weight w")
            axis.set_ylabel("Recall@20")
            axis.legend(fontsize=8)
    print(f"wrote {out}")


def main() -> None:
    results_plot_cli(__doc__, plot, "cpu-recent-item.png")


if __name__ == "__main__":
    main()
