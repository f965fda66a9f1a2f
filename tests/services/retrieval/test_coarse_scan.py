"""The bfloat16 and the int8 first pass with an exact re-rank answer an exact top k, as the float32 scan does:
checked against scores in float64 for ordinary queries, for catalogues built to have near-ties at
the k-th place, with exclusions and filters, and with fewer allowed items than k. Exact means to
float32's rounding: items whose scores differ by less than that (1e-4 here) may come in either
order, from either scan (the float32 scan's own kernels order them differently)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.filters import ItemFilter
from services.retrieval.coarse import CoarseScan
from services.retrieval.index import ItemIndex

KINDS = pytest.mark.parametrize("kind", ["bfloat16", "int8"])


def _pair(vectors: np.ndarray, kind: str, catalogue: dict | None = None) -> tuple[ItemIndex, ItemIndex]:
    ids = [f"P{i:07d}" for i in range(len(vectors))]
    return (ItemIndex(ids, vectors, catalogue=catalogue, coarse=False),
            ItemIndex(ids, vectors, catalogue=catalogue, coarse=kind))


TIE = 1e-4  # float32 rounding of scores up to ~150 over 64 terms stays well below this


def _exact(index: ItemIndex, found, queries: np.ndarray, k: int, exclude=(), item_filter=ItemFilter()) -> None:
    """Every answer row is a top ``k`` of the float64 scores (allowed items only), best first."""
    vectors = index.vectors.numpy().astype(np.float64)
    allowed = index.allowed(item_filter)
    for row, hits in enumerate(found):
        truth = vectors @ queries[row].astype(np.float64)
        if allowed is not None:
            truth[~allowed.numpy()] = -np.inf
        if row < len(exclude):
            truth[exclude[row]] = -np.inf
        finite = np.sort(truth[np.isfinite(truth)])[::-1]
        assert len(hits.indices) == min(k, len(finite)), row
        got = truth[hits.indices]
        assert np.isfinite(got).all(), row  # nothing excluded or filtered out
        assert (got >= finite[len(got) - 1] - TIE).all(), row  # none below the k-th best
        assert (np.diff(got) <= TIE).all(), row  # best first
        np.testing.assert_allclose(hits.scores, got, atol=TIE)


def _same(exact_index, coarse_index, queries, k, exclude=(), item_filter=ItemFilter()) -> None:
    for index in (exact_index, coarse_index):
        _exact(index, index.search(queries, k, exclude, item_filter), queries, k, exclude, item_filter)


@KINDS
@pytest.mark.parametrize("k", [1, 10, 100])
def test_the_same_top_k_as_the_exact_scan_for_gaussian_items_and_queries(k, kind):
    rng = np.random.default_rng(0)
    exact, coarse = _pair(rng.standard_normal((60_000, 64), dtype=np.float32), kind)
    queries = rng.standard_normal((200, 64), dtype=np.float32)
    _same(exact, coarse, queries, k)


@KINDS
def test_the_same_top_k_when_many_items_are_nearly_tied_at_the_kth_place(kind):
    # items differing from one another far below bfloat16's resolution (their scores near 64 are
    # ~1e-2 apart, bfloat16 steps there are 0.25) but above float32's: the approximate scores tie,
    # and only the exact re-rank can order them
    rng = np.random.default_rng(1)
    base = rng.standard_normal(64).astype(np.float32)
    near = base + rng.standard_normal((400, 64)).astype(np.float32) * 1e-3
    vectors = np.concatenate([near, rng.standard_normal((59_600, 64), dtype=np.float32) * 0.1])
    exact, coarse = _pair(vectors, kind)
    queries = np.stack([base, base * 3, -base] + [base + rng.standard_normal(64).astype(np.float32) * 0.01
                                                 for _ in range(20)])
    _same(exact, coarse, queries, 100)


@KINDS
def test_the_same_answers_with_exclusions_filters_and_fewer_allowed_items_than_k(kind):
    rng = np.random.default_rng(2)
    n = 60_000
    catalogue = {f"P{i:07d}": {"categories": ["rare" if i % 997 == 0 else "common"]} for i in range(n)}
    exact, coarse = _pair(rng.standard_normal((n, 32), dtype=np.float32), kind, catalogue)
    queries = rng.standard_normal((8, 32), dtype=np.float32)
    top = exact.search(queries, 50)
    exclude = [hits.indices[:25] for hits in top]  # each user has their 25 best already
    _same(exact, coarse, queries, 50, exclude)
    rare = ItemFilter(categories=("rare",))  # 61 items: fewer than k
    _same(exact, coarse, queries, 100, exclude, rare)
    assert len(coarse.search(queries, 100, (), rare)[0].indices) == len(range(0, n, 997))


@KINDS
def test_the_bound_holds_for_every_item_and_the_candidates_are_few(kind):
    rng = np.random.default_rng(3)
    vectors = torch.from_numpy(rng.standard_normal((100_000, 64), dtype=np.float32) * 3)
    scan = CoarseScan(vectors, kind)
    queries = torch.from_numpy(rng.standard_normal((20, 64), dtype=np.float32) * 5)
    approximate = scan.approximate(queries)[:, :len(vectors)].to(torch.float64)
    errors = (approximate - queries.double() @ vectors.double().T).abs().amax(dim=1)
    bounds = scan.bound(queries)
    assert bool((errors <= bounds).all()), (errors, bounds)
    sizes = [len(found) for found in scan.candidates(queries, 100, lambda raw, value: None)]
    assert all(100 <= size < 5_000 for size in sizes), sizes  # a few hundred to re-rank, not the catalogue


def test_small_catalogues_keep_the_plain_scan():
    rng = np.random.default_rng(4)
    index = ItemIndex([f"P{i}" for i in range(1000)], rng.standard_normal((1000, 16), dtype=np.float32))
    assert index.coarse is None


@KINDS
def test_a_catalogue_with_fewer_chunks_than_k_takes_the_kth_score_itself(kind):
    rng = np.random.default_rng(5)
    exact, coarse = _pair(rng.standard_normal((6_000, 16), dtype=np.float32), kind)  # 94 chunks of 64
    queries = rng.standard_normal((4, 16), dtype=np.float32)
    _same(exact, coarse, queries, 200)


def test_the_int8_scan_scores_are_exact_integer_products_scaled_and_a_zero_query_keeps_every_item():
    rng = np.random.default_rng(6)
    vectors = torch.from_numpy(rng.standard_normal((3_000, 24), dtype=np.float32))
    scan = CoarseScan(vectors, "int8")
    assert scan.vectors.dtype == torch.int8 and int(scan.vectors.abs().max()) == 127
    queries = torch.from_numpy(rng.standard_normal((3, 24), dtype=np.float32))
    quantized, _ = scan._rounded_queries(queries)
    integer = quantized.long() @ scan.vectors.long().T
    scales = queries.abs().amax(dim=1, keepdim=True) / 127 * scan.scale
    torch.testing.assert_close(scan.approximate(queries), integer.double().mul(scales).float())
    zero = torch.zeros(1, 24)
    assert len(scan.candidates(zero, 10, lambda raw, value: None)[0]) == 3_000  # all tie at 0: all re-ranked


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="coarse scan kind must be one of"):
        CoarseScan(torch.zeros(10, 4), "int4")
