"""Interactions as read from a source, in its own string ids (before any index mapping)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class InteractionLog:
    """(user, item[, rating][, timestamp]) rows in the source's own ids (numpy str arrays)."""

    user_ids: np.ndarray
    item_ids: np.ndarray
    ratings: np.ndarray | None = None  # float32, explicit feedback when present
    timestamps: np.ndarray | None = None  # int64 unix seconds when present

    def __post_init__(self) -> None:
        n = len(self.user_ids)
        for name in ("item_ids", "ratings", "timestamps"):
            value = getattr(self, name)
            if value is not None and len(value) != n:
                raise ValueError(f"InteractionLog.{name} has {len(value)} rows, user_ids has {n}")

    def __len__(self) -> int:
        return len(self.user_ids)

    def take(self, mask_or_index: np.ndarray) -> InteractionLog:
        return InteractionLog(
            self.user_ids[mask_or_index],
            self.item_ids[mask_or_index],
            None if self.ratings is None else self.ratings[mask_or_index],
            None if self.timestamps is None else self.timestamps[mask_or_index],
        )
