"""Exact maximum-inner-product search over the item matrix, with exclusions and catalogue filters.

Everything a query needs is precomputed at load time (the item matrix as a contiguous float32
tensor, per-category and per-brand item masks, prices), so a query is one matrix product, one
masked fill and one top-k. Filters combine as AND across fields and OR within a field.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from core.filters import ItemFilter
from core.item_ids import ItemsAt, PositionTable
from core.products import ProductAttributes, popularity_order
from services.retrieval.coarse import CoarseScan, measured_scan

if TYPE_CHECKING:
    from services.retrieval.precomputed import PrecomputedCandidates


@dataclass(frozen=True)
class Hits:
    indices: np.ndarray  # item indices, best first
    scores: np.ndarray


class ItemIndex:
    """Item vectors plus the catalogue attributes filters need."""

    def __init__(self, item_ids: Sequence[str], vectors: np.ndarray, popularity: np.ndarray | None = None,
                 catalogue: dict[str, dict] | None = None, coarse: str | bool | None = None) -> None:
        """``coarse``: search with an approximate first pass and an exact re-rank
        (services/retrieval/coarse.py; same answers): "int8" (a quarter of the memory traffic, a
        quarter more memory) or "bfloat16" (half the traffic, half again the memory), True for
        bfloat16, False for the float32 scan only; None: the fastest on this CPU for this catalogue."""
        if len(item_ids) != len(vectors):
            raise ValueError(f"{len(item_ids)} item ids but {len(vectors)} vectors")
        self.item_ids = list(item_ids)
        self.position = {item: i for i, item in enumerate(self.item_ids)}
        self._translation = PositionTable()  # in `serve all`: from the embedding model's id list
        self.vectors = torch.from_numpy(np.ascontiguousarray(vectors, dtype=np.float32))
        counts = np.zeros(len(item_ids)) if popularity is None else popularity
        self.popularity = torch.from_numpy(popularity_order(counts))
        self.attributes = ProductAttributes(self.item_ids, catalogue or {})
        if coarse is None:
            self.coarse = measured_scan(self.vectors)
        else:
            self.coarse = CoarseScan(self.vectors, "bfloat16" if coarse is True else coarse) if coarse else None
        # users' top items from training time, looked up instead of a scan where they answer exactly
        self.precomputed: PrecomputedCandidates | None = None

    def __len__(self) -> int:
        return len(self.item_ids)

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def indices_of(self, item_ids: Sequence[str]) -> np.ndarray:
        """Known items' indices (unknown ids are skipped: they cannot be recommended anyway)."""
        if isinstance(item_ids, ItemsAt):  # positions in another model's id list: translated by table
            table = self._translation.of(item_ids.space, self.position)[item_ids.positions]
            return table[table >= 0]
        return np.fromiter((self.position[i] for i in item_ids if i in self.position), dtype=np.int64)

    def allowed(self, item_filter: ItemFilter) -> torch.Tensor | None:
        """Boolean mask of items passing the filter (None when nothing is filtered)."""
        allowed = self.attributes.mask(item_filter)  # cached there; from_numpy shares its memory
        return None if allowed is None else torch.from_numpy(allowed)

    def search(self, queries: np.ndarray, k: int, exclude: Sequence[np.ndarray] = (),
               item_filter: ItemFilter = ItemFilter()) -> list[Hits]:
        """Exact top-``k`` items by inner product for each query row (a (B, d) or (d,) array).

        ``exclude[b]`` lists item indices query b must not get (items the user already has).
        Fewer than ``k`` hits come back when filters and exclusions leave fewer items.
        """
        queries = np.atleast_2d(np.asarray(queries, dtype=np.float32))
        if queries.shape[1] != self.dim:
            raise ValueError(f"query vectors have {queries.shape[1]} dimensions, the items {self.dim}")
        if self.coarse is not None:
            return self._search_coarse(torch.from_numpy(queries), k, exclude, item_filter)
        scores = torch.from_numpy(queries) @ self.vectors.T
        return self._top(scores, k, exclude, item_filter)

    def _search_coarse(self, queries: torch.Tensor, k: int, exclude: Sequence[np.ndarray],
                       item_filter: ItemFilter) -> list[Hits]:
        """The same answers as the exact scan: approximate scores masked like exact ones, then each
        row's candidates scored exactly."""
        if k <= 0:
            raise ValueError(f"k must be positive, got {k}")
        found_by_row = self.coarse.candidates(queries, k,
                                               lambda raw, value: self._mask(raw, exclude, item_filter, value))
        hits = []
        for row, found in enumerate(found_by_row):
            exact = self.vectors[found] @ queries[row]
            top = torch.topk(exact, min(k, len(found)))
            hits.append(Hits(found[top.indices].numpy(), top.values.numpy()))
        return hits

    def most_popular(self, k: int, exclude: np.ndarray | None = None,
                     item_filter: ItemFilter = ItemFilter()) -> Hits:
        """The popularity fallback for users without a vector, honouring the same exclusions/filters."""
        scores = self.popularity.to(torch.float32).unsqueeze(0).clone()
        return self._top(scores, k, [] if exclude is None else [exclude], item_filter)[0]

    def _mask(self, scores: torch.Tensor, exclude: Sequence[np.ndarray], item_filter: ItemFilter,
              value: float | int = -torch.inf) -> None:
        """``value`` (-inf for scores) where a row's query must not get an item (filtered out, or
        excluded for that row)."""
        mask = self.allowed(item_filter)
        if mask is not None:
            scores.masked_fill_(~mask, value)
        for row, items in enumerate(exclude):
            if len(items):
                scores[row, torch.from_numpy(np.asarray(items, dtype=np.int64))] = value

    def _top(self, scores: torch.Tensor, k: int, exclude: Sequence[np.ndarray], item_filter: ItemFilter) -> list[Hits]:
        if k <= 0:
            raise ValueError(f"k must be positive, got {k}")
        self._mask(scores, exclude, item_filter)
        top = torch.topk(scores, min(k, len(self)), dim=1)
        hits = []
        for values, indices in zip(top.values, top.indices):
            keep = torch.isfinite(values)
            hits.append(Hits(indices[keep].numpy(), values[keep].numpy()))
        return hits
