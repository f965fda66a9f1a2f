"""Exact top-k retrieval: agrees with brute force, honours exclusions and every filter."""

from __future__ import annotations

import numpy as np
import pytest

from core.filters import FilterError, ItemFilter
from core.item_ids import ItemsAt
from services.retrieval.index import ItemIndex


@pytest.fixture(scope="module")
def index() -> ItemIndex:
    rng = np.random.default_rng(0)
    ids = [f"P{i:03d}" for i in range(200)]
    catalogue = {item: {"categories": ["Electronics", "Audio"] if i % 2 else ["Books"],
                      "brand": "Aurex" if i % 3 == 0 else "Kuvo",
                      "price": float(i)} for i, item in enumerate(ids)}
    catalogue["P199"]["price"] = None  # unknown price
    return ItemIndex(ids, rng.normal(size=(200, 8)), popularity=np.arange(200)[::-1], catalogue=catalogue)


def test_matches_brute_force(index):
    rng = np.random.default_rng(1)
    queries = rng.normal(size=(5, 8)).astype(np.float32)
    hits = index.search(queries, 10)
    brute = queries @ index.vectors.numpy().T
    for row, hit in enumerate(hits):
        assert hit.indices.tolist() == np.argsort(-brute[row])[:10].tolist()
        assert np.allclose(hit.scores, np.sort(brute[row])[::-1][:10], atol=1e-5)


def test_exclusions_are_never_returned(index):
    query = np.ones(8, dtype=np.float32)
    best = index.search(query, 5)[0].indices
    again = index.search(query, 5, exclude=[best[:3]])[0].indices
    assert not set(best[:3]) & set(again)
    assert again[0] == best[3]


def test_filters_combine(index):
    query = np.ones(8, dtype=np.float32)
    hits = index.search(query, 200, item_filter=ItemFilter(categories=("audio",), brands=("Aurex",),
                                                           min_price=20, max_price=120))[0]
    assert len(hits.indices) > 0
    for i in hits.indices:
        # odd index (Audio), multiple of 3 (Aurex), price within [20, 120]
        assert i % 2 == 1 and i % 3 == 0 and 20 <= i <= 120
    expected = [i for i in range(200) if i % 2 == 1 and i % 3 == 0 and 20 <= i <= 120]
    assert sorted(hits.indices.tolist()) == expected


def test_unknown_price_fails_price_filters_and_unknown_category_matches_nothing(index):
    query = np.ones(8, dtype=np.float32)
    assert 199 not in index.search(query, 200, item_filter=ItemFilter(min_price=0))[0].indices
    assert len(index.search(query, 10, item_filter=ItemFilter(categories=("Garden",)))[0].indices) == 0


def test_bad_filters_and_arguments_raise(index):
    query = np.ones(8, dtype=np.float32)
    with pytest.raises(FilterError, match="above max_price"):
        ItemFilter(min_price=10, max_price=5)
    with pytest.raises(FilterError, match="non-negative"):
        ItemFilter(max_price=-1)
    with pytest.raises(FilterError, match="non-negative"):
        ItemFilter(min_price=float("nan"))
    with pytest.raises(ValueError, match="dimensions"):
        index.search(np.ones(3), 5)
    with pytest.raises(ValueError, match="positive"):
        index.search(query, 0)


def test_popularity_fallback_respects_exclusions_and_filters(index):
    top = index.most_popular(3)
    assert top.indices.tolist() == [0, 1, 2]  # popularity was arange reversed
    assert index.most_popular(3, exclude=np.array([0, 1])).indices.tolist() == [2, 3, 4]
    assert index.most_popular(2, item_filter=ItemFilter(categories=("Books",))).indices.tolist() == [0, 2]


def test_unknown_ids_are_skipped_when_mapping(index):
    assert index.indices_of(["P005", "nope", "P010"]).tolist() == [5, 10]


def test_positions_in_another_id_list_map_as_their_ids_do(index):
    other = ["nope", "P010", "P005", "P199", "gone"]  # another model's id list, in another order
    positions = np.array([2, 0, 3, 1, 4], dtype=np.int64)
    mapped = index.indices_of(ItemsAt(other, positions))
    assert mapped.tolist() == index.indices_of([other[p] for p in positions]).tolist() == [5, 199, 10]
    assert index.indices_of(ItemsAt(other, positions[:1])).tolist() == [5]  # the table is kept per list
