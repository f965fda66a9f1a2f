"""The figure set-up every plot shares: a PNG on leaving the block, no figure left open, and nothing
written when drawing fails."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest

from training.plotting import plot_training_curves, saved_figure

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_the_block_writes_a_png_into_a_new_folder_and_closes_the_figure(tmp_path):
    path = tmp_path / "new" / "folder" / "curve.png"
    open_before = len(plt.get_fignums())
    with saved_figure(path, ncols=2, figsize=(6, 3), dpi=50) as (figure, (left, right)):
        left.plot([1, 2, 3], [3, 1, 2])
        right.bar([0, 1], [2, 5])
        assert figure.get_size_inches().tolist() == [6, 3]
    assert path.read_bytes().startswith(PNG_MAGIC)
    assert len(plt.get_fignums()) == open_before


def test_a_failing_plot_writes_nothing_and_leaves_no_figure_open(tmp_path):
    path = tmp_path / "broken.png"
    open_before = len(plt.get_fignums())
    with pytest.raises(KeyError, match="recall"), saved_figure(path) as (_, axis):
        axis.plot([1, 2], [1, 2])
        {}["recall"]  # a row missing the metric the plot wants
    assert not path.exists()
    assert len(plt.get_fignums()) == open_before


def test_training_curves_with_a_validation_metric_are_written_as_a_png(tmp_path):
    history = [{"epoch": 1, "loss": 0.7}, {"epoch": 2, "loss": 0.5, "valid_recall@20": 0.11},
               {"epoch": 3, "loss": 0.4, "valid_recall@20": 0.14}]
    path = plot_training_curves(history, "recall@20", tmp_path / "curves.png", title="lightgcn")
    assert path.read_bytes().startswith(PNG_MAGIC)
