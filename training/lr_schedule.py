"""The learning rate of each epoch: constant, or a cosine annealed towards zero.

A run with a time budget anneals over that budget (it cannot know how many epochs fit), so its last
epochs take small steps whatever the machine's speed; without one it anneals over ``config.epochs``.
Large batches with a large rate learn fastest early and then plateau on their own noise; the
annealing removes that noise at the end.
"""

from __future__ import annotations

import math

from training.config import TrainConfig


def epoch_learning_rate(config: TrainConfig, epoch: int, seconds_spent: float) -> float:
    """The rate for ``epoch`` (1-based) of a resolved ``config``, ``seconds_spent`` training so far."""
    base = float(config.lr or 0.0)
    if config.lr_schedule == "constant":
        return base
    return base * 0.5 * (1.0 + math.cos(math.pi * training_progress(config, epoch, seconds_spent)))


def training_progress(config: TrainConfig, epoch: int, seconds_spent: float) -> float:
    """How far into its training a run is as ``epoch`` (1-based) starts, 0 to 1: by the time budget
    when one is set, else by the epochs."""
    if config.time_budget_s:
        progress = seconds_spent / config.time_budget_s
    else:
        progress = (epoch - 1) / max(1, config.epochs)
    return min(1.0, max(0.0, progress))
