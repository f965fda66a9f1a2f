"""Micro-batching of concurrent searches.

Exact search is memory-bound: each query streams the whole item matrix. Queries that arrive while
the event loop is busy are answered by one (B, d) x (d, n) product instead of B products, so the
matrix is read once per batch. A batch is flushed on the next turn of the event loop, which adds no
waiting when the service is idle and batches naturally under load.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import numpy as np

from services.retrieval.index import Hits, ItemFilter, ItemIndex


@dataclass
class _Pending:
    vectors: list[np.ndarray] = field(default_factory=list)
    ks: list[int] = field(default_factory=list)
    excludes: list[np.ndarray] = field(default_factory=list)
    futures: list[asyncio.Future] = field(default_factory=list)


class SearchBatcher:
    def __init__(self) -> None:
        self._pending: dict[tuple[int, ItemFilter], tuple[ItemIndex, _Pending]] = {}
        self.batches = 0
        self.queries = 0

    async def search(self, index: ItemIndex, vector: np.ndarray, k: int, exclude: np.ndarray,
                     item_filter: ItemFilter) -> Hits:
        loop = asyncio.get_running_loop()
        key = (id(index), item_filter)  # only queries over the same model and filter share a product
        if key not in self._pending:
            self._pending[key] = (index, _Pending())
            loop.call_soon(self._flush, key)
        pending = self._pending[key][1]
        future = loop.create_future()
        pending.vectors.append(vector)
        pending.ks.append(k)
        pending.excludes.append(exclude)
        pending.futures.append(future)
        return await future

    def _flush(self, key: tuple[int, ItemFilter]) -> None:
        index, pending = self._pending.pop(key)
        self.batches += 1
        self.queries += len(pending.futures)
        try:
            hits = index.search(np.stack(pending.vectors), max(pending.ks), pending.excludes, key[1])
        except Exception as error:  # noqa: BLE001 - every waiting caller gets the error
            for future in pending.futures:
                if not future.done():
                    future.set_exception(error)
            return
        for future, k, hit in zip(pending.futures, pending.ks, hits):
            if not future.done():
                future.set_result(Hits(hit.indices[:k], hit.scores[:k]))
