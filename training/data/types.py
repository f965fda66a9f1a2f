"""Core data containers shared by loaders, splits, models and evaluation.

Two levels: an :class:`InteractionLog` keeps the caller's original string ids exactly as read;
an :class:`Interactions` holds dense integer indices that models and samplers work on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.catalogue import ItemCatalogue
from core.interactions import InteractionLog


class DataFormatError(ValueError):
    """Malformed input; the message names the file and, where known, the line."""


@dataclass
class LoadedData:
    """What a loader returns.

    ``interactions`` is everything when the source has no split, or the training part when the
    files carry one (LightGCN train/test, NCF .rating files); then ``given_test`` holds the test part
    and ``test_negatives`` the NCF per-user negative candidates (original ids) when present.
    """

    interactions: InteractionLog
    source: str
    given_test: InteractionLog | None = None
    test_negatives: dict[str, np.ndarray] | None = None
    catalogue: ItemCatalogue | None = None


@dataclass(frozen=True)
class Interactions:
    """Interactions in dense indices (users in [0, n_users), items in [0, n_items))."""

    users: np.ndarray  # int64
    items: np.ndarray  # int64
    ratings: np.ndarray | None = None  # float32
    timestamps: np.ndarray | None = None  # int64

    def __len__(self) -> int:
        return len(self.users)

    def take(self, mask_or_index: np.ndarray) -> Interactions:
        return Interactions(
            self.users[mask_or_index],
            self.items[mask_or_index],
            None if self.ratings is None else self.ratings[mask_or_index],
            None if self.timestamps is None else self.timestamps[mask_or_index],
        )
