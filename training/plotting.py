"""PNG plots (matplotlib, headless): the training curves, and the figure set-up every plot here shares."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def saved_figure(path: Path, ncols: int = 1, figsize: tuple[float, float] = (7, 4), dpi: int = 110,
                 sharey: bool = False) -> Iterator[tuple[Any, Any]]:
    """``(figure, axes)`` from ``plt.subplots(1, ncols)`` on the headless backend; on leaving the block
    the figure is laid out, written to ``path`` (its folder made) and closed. Closed as well when the
    block raises, so a failed plot leaks no figure and writes no half-drawn file."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, ncols, figsize=figsize, dpi=dpi, sharey=sharey)
    try:
        yield figure, axes
        figure.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path)
    finally:
        plt.close(figure)


def plot_training_curves(history: list[dict[str, float]], metric: str, path: Path, title: str = "") -> Path:
    epochs = [row["epoch"] for row in history]
    with saved_figure(path) as (_, loss_ax):
        loss_ax.plot(epochs, [row["loss"] for row in history], color="tab:blue", marker=".", label="training loss")
        loss_ax.set_xlabel("epoch")
        loss_ax.set_ylabel("training loss", color="tab:blue")
        evaluated = [row for row in history if f"valid_{metric}" in row]
        if evaluated:
            metric_ax = loss_ax.twinx()
            metric_ax.plot([row["epoch"] for row in evaluated], [row[f"valid_{metric}"] for row in evaluated],
                           color="tab:orange", marker="o", label=f"validation {metric}")
            metric_ax.set_ylabel(f"validation {metric}", color="tab:orange")
        loss_ax.set_title(title or "training curves")
        loss_ax.grid(alpha=0.3)
    return path
