"""The product attributes item filters look at, precomputed once per catalogue, and the
popularity ranking every service falls back on for users it knows nothing about."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from core.filters import ItemFilter


class ProductAttributes:
    """Prices and category/brand membership by item position, so a filter is a few vector ops."""

    def __init__(self, item_ids: Sequence[str], products: Mapping[str, Mapping[str, Any]]) -> None:
        self.size = len(item_ids)
        self.prices = np.array([_price(products.get(i, {})) for i in item_ids], dtype=np.float64)
        by_category: dict[str, list[int]] = {}
        by_brand: dict[str, list[int]] = {}
        for position, item in enumerate(item_ids):
            row = products.get(item, {})
            for category in row.get("categories") or []:
                by_category.setdefault(str(category).lower(), []).append(position)
            if row.get("brand"):
                by_brand.setdefault(str(row["brand"]).lower(), []).append(position)
        self.by_category = {k: np.asarray(v) for k, v in by_category.items()}
        self.by_brand = {k: np.asarray(v) for k, v in by_brand.items()}
        self._cached_mask = lru_cache(maxsize=256)(self._compute_mask)

    def mask(self, item_filter: ItemFilter) -> np.ndarray | None:
        """Boolean mask of the items passing ``item_filter`` (None when it filters nothing)."""
        if item_filter.empty:
            return None
        return self._cached_mask(item_filter)

    def _compute_mask(self, item_filter: ItemFilter) -> np.ndarray:
        allowed = np.ones(self.size, dtype=bool)
        if item_filter.categories:
            allowed &= self._members(self.by_category, item_filter.categories)
        if item_filter.brands:
            allowed &= self._members(self.by_brand, item_filter.brands)
        if item_filter.min_price is not None:
            allowed &= self.prices >= item_filter.min_price  # unknown price (NaN) fails a price filter
        if item_filter.max_price is not None:
            allowed &= self.prices <= item_filter.max_price
        return allowed

    def _members(self, table: dict[str, np.ndarray], names: tuple[str, ...]) -> np.ndarray:
        out = np.zeros(self.size, dtype=bool)
        for name in names:
            members = table.get(name.lower())
            if members is not None:
                out[members] = True
        return out


def _price(row: Mapping[str, Any]) -> float:
    value = row.get("price")
    return float(value) if isinstance(value, (int, float)) and value == value else float("nan")


def popularity_order(counts: np.ndarray) -> np.ndarray:
    """Popularity scores with a deterministic tie-break (earlier item first)."""
    counts = np.asarray(counts, dtype=np.float64)
    return counts - np.arange(len(counts)) * 1e-9


@dataclass(frozen=True)
class Ranked:
    positions: np.ndarray  # best first
    scores: np.ndarray


def most_popular(scores: np.ndarray, k: int, exclude: np.ndarray, allowed: np.ndarray | None) -> Ranked:
    """The ``k`` best of ``scores`` (popularity_order) among allowed items not in ``exclude``."""
    if k <= 0:
        raise ValueError(f"k must be positive, got {k}")
    candidates = scores.copy()
    if allowed is not None:
        candidates[~allowed] = -np.inf
    if len(exclude):
        candidates[exclude] = -np.inf
    k = min(k, len(candidates))
    top = np.argpartition(-candidates, k - 1)[:k] if k < len(candidates) else np.arange(len(candidates))
    top = top[np.argsort(-candidates[top], kind="stable")]
    top = top[np.isfinite(candidates[top])]
    return Ranked(top, candidates[top])
