"""Micro-batching of concurrent searches (see services/common/batching.py for the scheduling).

Exact search is memory-bound: each query streams the whole item matrix. Concurrent queries over
the same model and filter are answered by one (B, d) x (d, n) product instead of B products, so the
matrix is read once per batch, on the batcher's thread while the event loop goes on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.filters import ItemFilter
from services.common.batching import MicroBatcher
from services.retrieval.index import Hits, ItemIndex


@dataclass(frozen=True)
class _Query:
    vector: np.ndarray
    k: int
    exclude: np.ndarray


class SearchBatcher:
    def __init__(self, max_batch: int = 256) -> None:
        self._batcher: MicroBatcher[_Query, Hits] = MicroBatcher("retrieval", _search, max_batch)

    @property
    def batches(self) -> int:
        return self._batcher.batches

    @property
    def queries(self) -> int:
        return self._batcher.items

    async def search(self, index: ItemIndex, vector: np.ndarray, k: int, exclude: np.ndarray,
                     item_filter: ItemFilter) -> Hits:
        # only queries over the same model and filter share a product
        return await self._batcher.submit((index, item_filter), _Query(vector, k, exclude))

    def close(self) -> None:
        self._batcher.close()


def _search(key: tuple[ItemIndex, ItemFilter], queries: Sequence[_Query]) -> list[Hits]:
    index, item_filter = key
    hits = index.search(np.stack([q.vector for q in queries]), max(q.k for q in queries),
                        [q.exclude for q in queries], item_filter)
    return [Hits(hit.indices[:q.k], hit.scores[:q.k]) for q, hit in zip(queries, hits)]
