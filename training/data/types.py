"""Core data containers shared by loaders, splits, models and evaluation.

Two levels: an :class:`InteractionLog` keeps the caller's original string ids exactly as read;
an :class:`Interactions` holds dense integer indices that models and samplers work on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


class DataFormatError(ValueError):
    """Malformed input; the message names the file and, where known, the line."""


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

    def take(self, mask_or_index: np.ndarray) -> "InteractionLog":
        return InteractionLog(
            self.user_ids[mask_or_index],
            self.item_ids[mask_or_index],
            None if self.ratings is None else self.ratings[mask_or_index],
            None if self.timestamps is None else self.timestamps[mask_or_index],
        )


@dataclass
class ItemCatalog:
    """Product metadata keyed by original item id (any field may be missing for an item)."""

    titles: dict[str, str] = field(default_factory=dict)
    categories: dict[str, list[str]] = field(default_factory=dict)
    brands: dict[str, str] = field(default_factory=dict)
    prices: dict[str, float] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(set(self.titles) | set(self.categories) | set(self.brands) | set(self.prices))

    def describe(self, item_id: str) -> dict[str, object]:
        return {
            "item_id": item_id,
            "title": self.titles.get(item_id),
            "categories": self.categories.get(item_id, []),
            "brand": self.brands.get(item_id),
            "price": self.prices.get(item_id),
        }


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
    catalog: ItemCatalog | None = None


@dataclass(frozen=True)
class Interactions:
    """Interactions in dense indices (users in [0, n_users), items in [0, n_items))."""

    users: np.ndarray  # int64
    items: np.ndarray  # int64
    ratings: np.ndarray | None = None  # float32
    timestamps: np.ndarray | None = None  # int64

    def __len__(self) -> int:
        return len(self.users)

    def take(self, mask_or_index: np.ndarray) -> "Interactions":
        return Interactions(
            self.users[mask_or_index],
            self.items[mask_or_index],
            None if self.ratings is None else self.ratings[mask_or_index],
            None if self.timestamps is None else self.timestamps[mask_or_index],
        )
