"""Micro-batched searches answer exactly like single searches, in fewer matrix products."""

from __future__ import annotations

import asyncio

import numpy as np

from core.filters import ItemFilter
from services.retrieval.batcher import SearchBatcher
from services.retrieval.index import ItemIndex


def test_concurrent_searches_are_batched_and_exact():
    rng = np.random.default_rng(0)
    index = ItemIndex([f"i{n}" for n in range(500)], rng.normal(size=(500, 16)))
    queries = rng.normal(size=(12, 16)).astype(np.float32)
    excludes = [np.arange(n) for n in range(12)]
    ks = [5 + n for n in range(12)]
    batcher = SearchBatcher()

    async def run():
        return await asyncio.gather(*(batcher.search(index, q, k, e, ItemFilter())
                                      for q, k, e in zip(queries, ks, excludes)))

    batched = asyncio.run(run())
    for q, k, e, got in zip(queries, ks, excludes, batched):
        alone = index.search(q, k, [e])[0]
        assert got.indices.tolist() == alone.indices.tolist()
        assert np.allclose(got.scores, alone.scores)
    assert batcher.queries == 12 and batcher.batches == 1


def test_an_error_reaches_every_caller_of_the_batch():
    index = ItemIndex(["a", "b"], np.eye(2))
    batcher = SearchBatcher()

    async def run():
        return await asyncio.gather(*(batcher.search(index, np.ones(3), 1, np.zeros(0, np.int64), ItemFilter())
                                      for _ in range(3)), return_exceptions=True)

    results = asyncio.run(run())
    assert all(isinstance(r, ValueError) and "dimensions" in str(r) for r in results)

