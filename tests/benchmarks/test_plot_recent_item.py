"""benchmarks/plot_recent_item draws from the JSON files the paper benchmark writes, and says which
file is missing instead of failing on it."""

from __future__ import annotations

import json

import pytest

from benchmarks.plot_recent_item import DATASETS, plot


def _write(path, target, weights):
    rows = [{"recent_item_weight": w, "recall@20": 0.1 + w / 100, "target": target, "loss": "bpr",
             "paper_recall@20": 0.18} for w in weights]
    path.write_text(json.dumps({"rows": rows}))


def test_the_plot_is_drawn_from_the_four_files(tmp_path):
    for dataset in DATASETS:
        _write(tmp_path / f"cpu-{dataset}-recent-item-selection.json", "last 20% of each train.txt line",
               [2.0, 0.0, 0.5])
        _write(tmp_path / f"cpu-{dataset}-recent-item.json", "test.txt", [0.0, 0.5])
    out = tmp_path / "plot.png"
    plot(tmp_path, out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(SystemExit, match="cpu-gowalla-recent-item-selection.json not found"):
        plot(tmp_path, tmp_path / "plot.png")
