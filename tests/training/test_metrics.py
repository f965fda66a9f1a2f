"""Ranking and rating metrics against values worked out by hand.

Discounts used throughout (1 / log2(rank + 1), rank 1-based):
    rank 1: 1/log2(2) = 1
    rank 2: 1/log2(3) = 0.6309297536
    rank 3: 1/log2(4) = 0.5
    rank 4: 1/log2(5) = 0.4306765581
    rank 5: 1/log2(6) = 0.3868528072
"""

from __future__ import annotations

import math

import pytest
import torch

from training import metrics

D1, D2, D3 = 1.0, 1.0 / math.log2(3), 0.5

# user 0: hits at ranks 1 and 3, 3 relevant items
# user 1: no hit, 2 relevant items
# user 2: hit at rank 2, 1 relevant item
HITS = torch.tensor([[1, 0, 1, 0, 0],
                     [0, 0, 0, 0, 0],
                     [0, 1, 0, 0, 0]], dtype=torch.bool)
N_REL = torch.tensor([3, 2, 1])


def close(actual: torch.Tensor, expected: list[float]) -> None:
    assert actual.dtype == torch.float64
    assert actual.tolist() == pytest.approx(expected, abs=1e-9)


def test_hit_rate() -> None:
    # any hit in the row: user0 yes, user1 no, user2 yes
    close(metrics.hit_rate(HITS), [1.0, 0.0, 1.0])


def test_precision() -> None:
    # hits / k with k = 5: 2/5, 0/5, 1/5
    close(metrics.precision(HITS), [0.4, 0.0, 0.2])


def test_recall() -> None:
    # hits / n_relevant: 2/3, 0/2, 1/1
    close(metrics.recall(HITS, N_REL), [2 / 3, 0.0, 1.0])


def test_recall_with_no_relevant_items_is_zero_not_nan() -> None:
    # 0 hits / max(0, 1) = 0
    close(metrics.recall(torch.zeros(1, 3, dtype=torch.bool), torch.tensor([0])), [0.0])


def test_ndcg() -> None:
    # user0: DCG = 1 (rank 1) + 0.5 (rank 3) = 1.5
    #        IDCG over min(3, 5) = 3 items = 1 + 0.6309297536 + 0.5 = 2.1309297536
    #        NDCG = 1.5 / 2.1309297536 = 0.7039180890
    # user1: DCG = 0 -> 0
    # user2: DCG = 0.6309297536 (rank 2); IDCG over min(1, 5) = 1 item = 1 -> 0.6309297536
    user0 = (D1 + D3) / (D1 + D2 + D3)
    assert user0 == pytest.approx(0.7039180890, abs=1e-9)
    close(metrics.ndcg(HITS, N_REL), [user0, 0.0, D2])


def test_ndcg_ideal_is_capped_at_k() -> None:
    # k = 2, both ranks hit, 5 relevant: DCG = 1 + 0.6309 ; IDCG over min(5, 2) = 2 items = 1 + 0.6309
    # -> 1.0 (an IDCG over all 5 relevant items would give 1.6309 / 2.9485 = 0.553 instead)
    close(metrics.ndcg(torch.tensor([[1, 1]], dtype=torch.bool), torch.tensor([5])), [1.0])
    # k = 3, hit at rank 3 only, 2 relevant: DCG = 0.5 ; IDCG = 1 + 0.6309297536 = 1.6309297536
    # -> 0.5 / 1.6309297536 = 0.3065735964
    close(metrics.ndcg(torch.tensor([[0, 0, 1]], dtype=torch.bool), torch.tensor([2])), [0.3065735964])


def test_average_precision() -> None:
    # user0: precision@1 = 1/1, precision@3 = 2/3 -> (1 + 2/3) / min(3, 5) = (5/3) / 3 = 5/9 = 0.5556
    # user1: no hit -> 0
    # user2: precision@2 = 1/2 -> (1/2) / min(1, 5) = 0.5
    close(metrics.average_precision(HITS, N_REL), [5 / 9, 0.0, 0.5])


def test_average_precision_normalised_by_min_relevant_k() -> None:
    # k = 2, hits at ranks 1 and 2, 5 relevant: (1/1 + 2/2) / min(5, 2) = 2 / 2 = 1.0
    # (dividing by n_relevant = 5 would give 0.4)
    close(metrics.average_precision(torch.tensor([[1, 1]], dtype=torch.bool), torch.tensor([5])), [1.0])
    # k = 4, hits at ranks 2 and 4, 3 relevant: (1/2 + 2/4) / min(3, 4) = 1 / 3
    close(metrics.average_precision(torch.tensor([[0, 1, 0, 1]], dtype=torch.bool), torch.tensor([3])), [1 / 3])


def test_reciprocal_rank() -> None:
    # first hit: user0 rank 1 -> 1, user1 none -> 0, user2 rank 2 -> 1/2
    close(metrics.reciprocal_rank(HITS), [1.0, 0.0, 0.5])
    # first hit at rank 4 of 5 (a later hit at rank 5 does not matter) -> 1/4
    close(metrics.reciprocal_rank(torch.tensor([[0, 0, 0, 1, 1]], dtype=torch.bool)), [0.25])


def test_ranking_metrics_keys_and_truncation() -> None:
    out = metrics.ranking_metrics(HITS, N_REL, [1, 3])
    assert set(out) == {f"{m}@{k}" for m in ("recall", "precision", "ndcg", "hr", "map", "mrr") for k in (1, 3)}
    # k = 1 keeps only column 0 = [1, 0, 0]
    close(out["hr@1"], [1.0, 0.0, 0.0])
    close(out["precision@1"], [1.0, 0.0, 0.0])            # 1/1, 0/1, 0/1
    close(out["recall@1"], [1 / 3, 0.0, 0.0])             # 1/3, 0/2, 0/1
    close(out["ndcg@1"], [1.0, 0.0, 0.0])                 # user0: 1 / IDCG(min(3,1)=1) = 1/1
    close(out["map@1"], [1.0, 0.0, 0.0])                  # user0: (1/1) / min(3, 1) = 1
    close(out["mrr@1"], [1.0, 0.0, 0.0])
    # k = 3 keeps columns 0..2: [1,0,1], [0,0,0], [0,1,0]
    close(out["precision@3"], [2 / 3, 0.0, 1 / 3])       # 2/3, 0/3, 1/3
    close(out["recall@3"], [2 / 3, 0.0, 1.0])             # 2/3, 0/2, 1/1
    # user0: (1 + 0.5) / (1 + 0.6309 + 0.5) = 0.7039 ; user2: 0.6309 / 1
    close(out["ndcg@3"], [(D1 + D3) / (D1 + D2 + D3), 0.0, D2])
    close(out["map@3"], [5 / 9, 0.0, 0.5])                # as in test_average_precision
    close(out["mrr@3"], [1.0, 0.0, 0.5])


def test_rmse_and_mae() -> None:
    predicted = torch.tensor([1.0, 2.0, 3.0, 4.0])
    actual = torch.tensor([1.0, 1.0, 5.0, 4.0])
    # errors = [0, 1, -2, 0]; squares = [0, 1, 4, 0]; mean = 5/4 = 1.25; sqrt(1.25) = 1.1180339887
    assert metrics.rmse(predicted, actual) == pytest.approx(1.1180339887, abs=1e-9)
    # |errors| = [0, 1, 2, 0]; mean = 3/4
    assert metrics.mae(predicted, actual) == pytest.approx(0.75, abs=1e-12)
    assert isinstance(metrics.rmse(predicted, actual), float)
    assert isinstance(metrics.mae(predicted, actual), float)
