"""Exact maximum-inner-product search over the item matrix, with exclusions and catalogue filters.

Everything a query needs is precomputed at load time (the item matrix as a contiguous float32
tensor, per-category and per-brand item masks, prices), so a query is one matrix product, one
masked fill and one top-k. Filters combine as AND across fields and OR within a field.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from services.common.errors import InvalidRequest


class FilterError(InvalidRequest):
    """A filter that cannot be satisfied as written (e.g. min price above max price)."""


@dataclass(frozen=True)
class ItemFilter:
    categories: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()
    min_price: float | None = None
    max_price: float | None = None

    def validate(self) -> None:
        for name, value in (("min_price", self.min_price), ("max_price", self.max_price)):
            if value is not None and (not np.isfinite(value) or value < 0):
                raise FilterError(f"{name} must be a finite, non-negative number, got {value}")
        if self.min_price is not None and self.max_price is not None and self.min_price > self.max_price:
            raise FilterError(f"min_price {self.min_price} is above max_price {self.max_price}")

    @property
    def empty(self) -> bool:
        return not (self.categories or self.brands or self.min_price is not None or self.max_price is not None)


@dataclass(frozen=True)
class Hits:
    indices: np.ndarray  # item indices, best first
    scores: np.ndarray


class ItemIndex:
    """Item vectors plus the catalogue attributes filters need."""

    def __init__(self, item_ids: Sequence[str], vectors: np.ndarray, popularity: np.ndarray | None = None,
                 catalog: dict[str, dict] | None = None) -> None:
        if len(item_ids) != len(vectors):
            raise ValueError(f"{len(item_ids)} item ids but {len(vectors)} vectors")
        self.item_ids = list(item_ids)
        self.position = {item: i for i, item in enumerate(self.item_ids)}
        self.vectors = torch.from_numpy(np.ascontiguousarray(vectors, dtype=np.float32))
        counts = np.zeros(len(item_ids)) if popularity is None else np.asarray(popularity, dtype=np.float64)
        # Popularity order with a deterministic tie-break (item index).
        self.popularity = torch.from_numpy(counts - np.arange(len(counts)) * 1e-9)
        catalog = catalog or {}
        self.prices = np.array([_price(catalog.get(i, {})) for i in self.item_ids], dtype=np.float64)
        self._by_category: dict[str, np.ndarray] = {}
        self._by_brand: dict[str, np.ndarray] = {}
        for index, item in enumerate(self.item_ids):
            row = catalog.get(item, {})
            for category in row.get("categories") or []:
                self._by_category.setdefault(str(category).lower(), []).append(index)  # type: ignore[arg-type]
            if row.get("brand"):
                self._by_brand.setdefault(str(row["brand"]).lower(), []).append(index)  # type: ignore[arg-type]
        self._by_category = {k: np.asarray(v) for k, v in self._by_category.items()}
        self._by_brand = {k: np.asarray(v) for k, v in self._by_brand.items()}
        self._mask = lru_cache(maxsize=256)(self._compute_mask)

    def __len__(self) -> int:
        return len(self.item_ids)

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def indices_of(self, item_ids: Sequence[str]) -> np.ndarray:
        """Known items' indices (unknown ids are skipped: they cannot be recommended anyway)."""
        return np.fromiter((self.position[i] for i in item_ids if i in self.position), dtype=np.int64)

    def _compute_mask(self, item_filter: ItemFilter) -> torch.Tensor:
        allowed = np.ones(len(self), dtype=bool)
        if item_filter.categories:
            allowed &= self._members(self._by_category, item_filter.categories)
        if item_filter.brands:
            allowed &= self._members(self._by_brand, item_filter.brands)
        if item_filter.min_price is not None:
            allowed &= self.prices >= item_filter.min_price  # unknown price (NaN) fails a price filter
        if item_filter.max_price is not None:
            allowed &= self.prices <= item_filter.max_price
        return torch.from_numpy(allowed)

    def _members(self, table: dict[str, np.ndarray], names: tuple[str, ...]) -> np.ndarray:
        out = np.zeros(len(self), dtype=bool)
        for name in names:
            members = table.get(name.lower())
            if members is not None:
                out[members] = True
        return out

    def allowed(self, item_filter: ItemFilter) -> torch.Tensor | None:
        """Boolean mask of items passing the filter (None when nothing is filtered)."""
        if item_filter.empty:
            return None
        item_filter.validate()
        return self._mask(item_filter)

    def search(self, queries: np.ndarray, k: int, exclude: Sequence[np.ndarray] = (),
               item_filter: ItemFilter = ItemFilter()) -> list[Hits]:
        """Exact top-``k`` items by inner product for each query row (a (B, d) or (d,) array).

        ``exclude[b]`` lists item indices query b must not get (items the user already has).
        Fewer than ``k`` hits come back when filters and exclusions leave fewer items.
        """
        queries = np.atleast_2d(np.asarray(queries, dtype=np.float32))
        if queries.shape[1] != self.dim:
            raise ValueError(f"query vectors have {queries.shape[1]} dimensions, the items {self.dim}")
        scores = torch.from_numpy(queries) @ self.vectors.T
        return self._top(scores, k, exclude, item_filter)

    def most_popular(self, k: int, exclude: np.ndarray | None = None,
                     item_filter: ItemFilter = ItemFilter()) -> Hits:
        """The popularity fallback for users without a vector, honouring the same exclusions/filters."""
        scores = self.popularity.to(torch.float32).unsqueeze(0).clone()
        return self._top(scores, k, [] if exclude is None else [exclude], item_filter)[0]

    def _top(self, scores: torch.Tensor, k: int, exclude: Sequence[np.ndarray], item_filter: ItemFilter) -> list[Hits]:
        if k <= 0:
            raise ValueError(f"k must be positive, got {k}")
        mask = self.allowed(item_filter)
        if mask is not None:
            scores.masked_fill_(~mask, -torch.inf)
        for row, items in enumerate(exclude):
            if len(items):
                scores[row, torch.from_numpy(np.asarray(items, dtype=np.int64))] = -torch.inf
        top = torch.topk(scores, min(k, len(self)), dim=1)
        hits = []
        for values, indices in zip(top.values, top.indices):
            keep = torch.isfinite(values)
            hits.append(Hits(indices[keep].numpy(), values[keep].numpy()))
        return hits


def _price(row: dict) -> float:
    value = row.get("price")
    return float(value) if isinstance(value, (int, float)) and value == value else float("nan")
