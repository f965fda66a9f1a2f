"""Recency-weighted training pairs: where a user's next interactions continue its latest ones, the
pairs at the end of its history say more about them than the ones at the start.

:func:`history_positions` places each training row along its user's history (0 the first, 1 the
last); :func:`recency_weights` turns that into per-pair loss weights, ``1 + w * position``
(linear) or ``exp(w * position)`` (exponential), rescaled to mean 1 so the loss keeps its scale and
the learning rate its meaning. ``w = 0`` is every pair alike, the papers' objective. The linear
weights level off (on Gowalla every ``w`` from 2 to 20 trains within 0.0005 Recall@20 of the
others): the last pair weighs at most ``1 + w`` times the first, against ``e^w`` times for the
exponential shape, which trained better there (docs/benchmarks.md#recency-weighted-pairs).
"""

from __future__ import annotations

import numpy as np


def history_ranks(users: np.ndarray, timestamps: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Each row's rank along its user's history (0 for the first) and the length of that history.
    By timestamp where there are timestamps (ties keep the rows' order), else the rows' own order,
    which for files without times is the file's."""
    if len(users) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    by_time = np.arange(len(users)) if timestamps is None else np.lexsort((np.arange(len(users)), timestamps))
    order = by_time[np.argsort(users[by_time], kind="stable")]  # grouped by user, in time within each
    counts = np.bincount(users)
    starts = np.cumsum(counts) - counts
    rank = np.empty(len(users), dtype=np.int64)
    rank[order] = np.arange(len(users)) - starts[users[order]]
    return rank, counts[users]


def history_positions(users: np.ndarray, timestamps: np.ndarray | None = None) -> np.ndarray:
    """Each row's place along its user's history as a fraction in [0, 1]: 0 for the user's first
    row, 1 for its last (and for a user's only row); ordered as :func:`history_ranks` orders."""
    rank, size = history_ranks(users, timestamps)
    last = size - 1
    return np.where(last > 0, rank / np.maximum(last, 1), 1.0)


RECENCY_SHAPES = ("linear", "exponential")


def recency_weights(users: np.ndarray, timestamps: np.ndarray | None, weight: float,
                    shape: str = "linear") -> np.ndarray:
    """Per-row loss weights over each row's :func:`history_positions` ``p``: ``1 + weight * p``
    (linear) or ``exp(weight * p)`` (exponential), rescaled to mean 1, float32."""
    if weight < 0:
        raise ValueError(f"the recency weight must be >= 0, got {weight}")
    if shape not in RECENCY_SHAPES:
        raise ValueError(f"the recency shape must be one of {', '.join(RECENCY_SHAPES)}, got '{shape}'")
    position = history_positions(users, timestamps)
    # exp(w * (p - 1)) is exp(w * p) up to the scale the mean removes, and stays <= 1 for any w
    raw = 1.0 + weight * position if shape == "linear" else np.exp(weight * (position - 1.0))
    return (raw / raw.mean()).astype(np.float32) if len(raw) else raw.astype(np.float32)
