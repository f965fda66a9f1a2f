"""benchmarks/plot_recency draws from the JSON files the paper benchmark writes, and says which file
is missing, or which setting has no row, instead of failing on it."""

from __future__ import annotations

import json

import pytest

from benchmarks.plot_recency import SELECTION_FILES, TEST_FILES, plot


def _row(weight, recall, **extra):
    return {"recency_weight": weight, "recent_item_weight": 0.0, "recall@20": recall, "paper_recall@20": 0.183,
            **extra}


def _write_all(folder, test_weights=(0.0, 6.0)):
    rows = {"cpu-gowalla-recency-weighted-selection.json": [_row(2.0, 0.165), _row(20.0, 0.166),
                                                            {**_row(2.0, 0.18), "recent_item_weight": 1.0}],
            "cpu-gowalla-recency-weighted-check-selection.json": [_row(6.0, 0.1663)],
            "cpu-gowalla-recency-exponential-patch-selection.json": [_row(2.0, 0.1676), _row(4.0, 0.1677)],
            "cpu-gowalla-hard-negatives-k64-23-epochs-selection.json": [_row(None, 0.1626, hard_negatives=32),
                                                                        _row(None, 0.1605, hard_negatives=64)],
            "cpu-gowalla-recency-weighted.json": [_row(w, 0.18 + w / 1000) for w in test_weights],
            "cpu-gowalla-recency-weighted-seeds.json": [_row(w, 0.18, seed=1) for w in test_weights],
            "cpu-gowalla-recency-exponential-patch.json": [_row(4.0, 0.1832, seed=s) for s in (0, 1, 2)]}
    assert set(rows) == {name for names in (*SELECTION_FILES.values(), *TEST_FILES.values()) for name in names}
    for name, file_rows in rows.items():
        (folder / name).write_text(json.dumps({"rows": file_rows}))


def test_the_three_panels_are_drawn_from_the_files(tmp_path):
    _write_all(tmp_path)
    out = tmp_path / "recency.png"
    plot(tmp_path, out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(SystemExit, match=r"cpu-gowalla-.*\.json not found: run benchmarks.lightgcn_paper"):
        plot(tmp_path, tmp_path / "recency.png")


def test_a_setting_without_a_test_row_is_named(tmp_path):
    _write_all(tmp_path, test_weights=(0.0,))
    with pytest.raises(SystemExit, match="no test.txt row for linear, W = 6"):
        plot(tmp_path, tmp_path / "recency.png")
    assert not (tmp_path / "recency.png").exists()
