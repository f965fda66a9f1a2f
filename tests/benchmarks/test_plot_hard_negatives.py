"""benchmarks/plot_hard_negatives draws Recall@20 against training time from the JSON files the paper
benchmark writes (rows from before --hard-negatives count as K = 1), and names a missing file."""

from __future__ import annotations

import json

import pytest

from benchmarks.plot_hard_negatives import plot


def _write(path, target, runs):
    rows = [{"recent_item_weight": w, "recall@20": 0.1 + (k or 1) / 1000 + w / 100, "train_s": seconds,
             "target": target,
             "paper_recall@20": 0.183, **({"hard_negatives": k} if k else {})}
            for k, seconds in runs for w in (0.0, 1.0)]
    path.write_text(json.dumps({"rows": rows}))


def test_the_plot_is_drawn_from_selection_and_test_runs(tmp_path):
    files = [tmp_path / "old.json", tmp_path / "short.json", tmp_path / "test.json"]
    _write(files[0], "last 20% of each train.txt line", [(None, 900.0)])
    _write(files[1], "last 20% of each train.txt line", [(1, 180.0), (32, 181.0)])
    _write(files[2], "test.txt", [(1, 180.0), (32, 182.0)])
    out = tmp_path / "plot.png"
    plot(files, out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_yelp2018_panels_use_its_chosen_weight(tmp_path):
    path = tmp_path / "yelp.json"
    rows = [{"recent_item_weight": w, "recall@20": 0.05 + w / 100, "train_s": 180.0, "hard_negatives": k,
             "target": "last 20% of each train.txt line", "paper_recall@20": 0.0649}
            for k in (1, 32) for w in (0.0, 0.25)]
    path.write_text(json.dumps({"rows": rows}))
    out = tmp_path / "yelp.png"
    plot([path], out, dataset="yelp2018")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(SystemExit, match="absent.json not found"):
        plot([tmp_path / "absent.json"], tmp_path / "plot.png")
