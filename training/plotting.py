"""PNG plots of training curves (matplotlib, headless)."""

from __future__ import annotations

from pathlib import Path


def plot_training_curves(history: list[dict[str, float]], metric: str, path: Path, title: str = "") -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [row["epoch"] for row in history]
    fig, loss_ax = plt.subplots(figsize=(7, 4), dpi=110)
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
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
