"""Evaluation protocols with a hand-made scorer, so every number can be worked out on paper."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from models.base import Recommender
from training.data.types import Interactions
from training.evaluation import full_ranking, rating_error, sample_eval_negatives, sampled_ranking

D2 = 1.0 / math.log2(3)  # discount at rank 2 = 0.6309297536
D3 = 0.5                 # discount at rank 3 = 1/log2(4)


class FixedScores(Recommender):
    """Scores come from a fixed (n_users, n_items) matrix."""

    name = "fixed"

    def __init__(self, scores: list[list[float]] | torch.Tensor) -> None:
        scores = torch.as_tensor(scores, dtype=torch.float32)
        super().__init__(*scores.shape)
        self.register_buffer("scores", scores)

    def score_pairs(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        return self.scores[users, items]

    def score_all(self, users: torch.Tensor) -> torch.Tensor:
        return self.scores[users].clone()


def inter(pairs: list[tuple[int, int]], ratings: list[float] | None = None) -> Interactions:
    users = np.array([u for u, _ in pairs], dtype=np.int64)
    items = np.array([i for _, i in pairs], dtype=np.int64)
    return Interactions(users, items, None if ratings is None else np.array(ratings, dtype=np.float32))


# ------------------------------------------------------------------------------------- full ranking

# 4 users x 5 items.
SCORES = [
    [9, 1, 8, 2, 7],  # u0: train item 0 (top score) masked -> order 2, 4, 3, 1
    [3, 5, 1, 2, 9],  # u1: train item 4 (top score) masked -> order 1, 0, 3, 2
    [0, 0, 0, 9, 8],  # u2: not in the target -> never evaluated (would recommend items 3, 4)
    [4, 3, 0, 1, 5],  # u3: train item 2 masked -> order 4, 0, 1, 3
]
TRAIN = inter([(0, 0), (1, 4), (2, 1), (3, 2)])
TARGET = inter([(0, 2), (0, 3), (1, 0), (3, 3)])


@pytest.mark.parametrize("batch_users", [1, 2, 1024])
def test_full_ranking_by_hand(batch_users: int) -> None:
    result = full_ranking(FixedScores(SCORES), TARGET, [TRAIN], ks=[1, 2], batch_users=batch_users)
    # Evaluated users: u0, u1, u3 (u2 has no target rows).
    # top-2 after masking:  u0 [2, 4] vs {2, 3} -> hits [1, 0]
    #                       u1 [1, 0] vs {0}    -> hits [0, 1]
    #                       u3 [4, 0] vs {3}    -> hits [0, 0]
    assert result["eval_users"] == 3.0
    # recall@2 = (1/2 + 1/1 + 0/1) / 3 = 1.5 / 3 = 0.5
    assert result["recall@2"] == pytest.approx(0.5)
    # precision@2 = (1/2 + 1/2 + 0/2) / 3 = 1/3
    assert result["precision@2"] == pytest.approx(1 / 3)
    # ndcg@2: u0 = 1 / (1 + 0.6309) = 0.613147 (ideal over min(2, 2) = 2 items)
    #         u1 = 0.6309 / 1 = 0.630930 (ideal over min(1, 2) = 1 item)
    #         u3 = 0 -> (0.613147 + 0.630930 + 0) / 3 = 0.414692
    assert result["ndcg@2"] == pytest.approx((1 / (1 + D2) + D2) / 3)
    assert result["ndcg@2"] == pytest.approx(0.414692, abs=1e-6)
    # hr@2 = (1 + 1 + 0) / 3
    assert result["hr@2"] == pytest.approx(2 / 3)
    # mrr@2 = (1/1 + 1/2 + 0) / 3 = 0.5
    assert result["mrr@2"] == pytest.approx(0.5)
    # map@2 = (u0: (1/1)/min(2,2) = 0.5 ; u1: (1/2)/min(1,2) = 0.5 ; u3: 0) / 3 = 1/3
    assert result["map@2"] == pytest.approx(1 / 3)
    # top-1: u0 [2] hit, u1 [1] miss, u3 [4] miss
    # recall@1 = (1/2 + 0 + 0) / 3 = 1/6 ; hr@1 = 1/3 ; precision@1 = 1/3
    assert result["recall@1"] == pytest.approx(1 / 6)
    assert result["hr@1"] == pytest.approx(1 / 3)
    assert result["precision@1"] == pytest.approx(1 / 3)
    # coverage@1 = |{2, 1, 4}| / 5 = 0.6 ; coverage@2 = |{2, 4, 1, 0}| / 5 = 0.8
    # (item 3 would only be recommended to u2, who is not evaluated; item 0 reaches the top-1 of
    # u0 only if training items were not masked)
    assert result["coverage@1"] == pytest.approx(0.6)
    assert result["coverage@2"] == pytest.approx(0.8)


def test_full_ranking_training_item_never_counts_or_appears() -> None:
    # One user; item 0 is in both train and target and has the top score. Masked, it can neither
    # be recommended nor hit: top-1 = item 1 (score 5), which is not in the target {0, 3}.
    model = FixedScores([[10, 5, 1, 0]])
    result = full_ranking(model, inter([(0, 0), (0, 3)]), [inter([(0, 0)])], ks=[1])
    assert result["hr@1"] == 0.0          # would be 1 if item 0 were ranked
    assert result["coverage@1"] == 0.25   # |{1}| / 4
    # the model's own scores are not altered by the masking
    assert model.scores[0, 0] == 10


def test_full_ranking_masks_every_exclude_part() -> None:
    # Items 0 (train) and 1 (valid) are both masked, so the top-1 is item 2, the target.
    model = FixedScores([[9, 8, 7, 0]])
    result = full_ranking(model, inter([(0, 2)]), [inter([(0, 0)]), inter([(0, 1)])], ks=[1])
    assert result["hr@1"] == 1.0
    assert result["ndcg@1"] == 1.0
    only_train = full_ranking(model, inter([(0, 2)]), [inter([(0, 0)])], ks=[1])
    assert only_train["hr@1"] == 0.0  # item 1 wins when validation is not masked


# ----------------------------------------------------------------------------------- sampled ranking

SAMPLED_SCORES = [
    [5, 6, 1, 2, 3, 0, 0, 0, 0, 0],  # row 0: positive item 0 (5) vs items 1..4 (6, 1, 2, 3): 1 beats it
    [0, 9, 1, 2, 3, 0, 0, 0, 0, 0],  # row 1: positive item 1 (9) vs items 0, 2, 3, 4 (0, 1, 2, 3): none
    [0, 0, 4, 4, 9, 0, 0, 0, 0, 0],  # row 2: positive item 2 (4) vs items 3..6 (4, 9, 0, 0): 1 tie + 1 higher
]
SAMPLED_TARGET = inter([(0, 0), (1, 1), (2, 2)])
SAMPLED_NEGATIVES = torch.tensor([[1, 2, 3, 4], [0, 2, 3, 4], [3, 4, 5, 6]])


def test_sampled_ranking_by_hand() -> None:
    result = sampled_ranking(FixedScores(SAMPLED_SCORES), SAMPLED_TARGET, SAMPLED_NEGATIVES, ks=[1, 2, 3])
    # 0-based ranks (negatives scoring >= the positive): row 0 -> 1, row 1 -> 0, row 2 -> 2 (tie counts)
    # HR@1 = [0, 1, 0] -> 1/3 ; HR@2 = [1, 1, 0] -> 2/3 ; HR@3 = [1, 1, 1] -> 1
    assert result["hr@1"] == pytest.approx(1 / 3)
    assert result["hr@2"] == pytest.approx(2 / 3)   # 1.0 if the tie in row 2 were in the model's favour
    assert result["hr@3"] == pytest.approx(1.0)
    # NDCG@2 = (1/log2(3) + 1 + 0) / 3 = (0.6309297536 + 1) / 3 = 0.5436432512
    assert result["ndcg@2"] == pytest.approx((D2 + 1) / 3)
    assert result["ndcg@2"] == pytest.approx(0.5436432512, abs=1e-9)
    # NDCG@3 = (0.6309297536 + 1 + 0.5) / 3 = 0.7103099179
    assert result["ndcg@3"] == pytest.approx((D2 + 1 + D3) / 3)
    # MRR@3 = (1/2 + 1/1 + 1/3) / 3 = 0.6111111
    assert result["mrr@3"] == pytest.approx((0.5 + 1 + 1 / 3) / 3)
    assert result["eval_rows"] == 3.0
    assert result["negatives_per_row"] == 4.0
    # only the sampled-protocol metrics are reported
    assert not any(k.startswith(("recall", "precision", "map")) for k in result)


def test_sampled_ranking_batches_agree() -> None:
    model = FixedScores(SAMPLED_SCORES)
    whole = sampled_ranking(model, SAMPLED_TARGET, SAMPLED_NEGATIVES, ks=[1, 2, 3])
    batched = sampled_ranking(model, SAMPLED_TARGET, SAMPLED_NEGATIVES, ks=[1, 2, 3], batch_rows=2)
    assert batched == pytest.approx(whole)


def test_sampled_ranking_constant_model_scores_zero() -> None:
    # Every negative ties the positive -> rank 99 for every row -> no hit within 10.
    n_items = 120
    model = FixedScores(torch.zeros(2, n_items))
    target = inter([(0, 0), (1, 5)])
    negatives = torch.stack([torch.arange(1, 100), torch.arange(10, 109)])
    result = sampled_ranking(model, target, negatives, ks=[10])
    assert result["hr@10"] == 0.0
    assert result["ndcg@10"] == 0.0
    assert result["mrr@10"] == 0.0
    assert result["negatives_per_row"] == 99.0


# -------------------------------------------------------------------------------- eval negatives

def _known_parts() -> tuple[list[Interactions], Interactions, int]:
    rng = np.random.default_rng(0)
    n_items, pairs, test_pairs = 150, [], []
    for user in range(6):
        items = rng.choice(n_items, size=30, replace=False)
        pairs += [(user, int(i)) for i in items[:28]]
        test_pairs += [(user, int(i)) for i in items[28:]]  # 2 test rows per user
    return [inter(pairs), inter(test_pairs)], inter(test_pairs), n_items


def test_sample_eval_negatives_properties() -> None:
    known, target, n_items = _known_parts()
    negs = sample_eval_negatives(known, target, n_items, seed=3)
    assert negs.shape == (len(target), 99)
    assert int(negs.min()) >= 0 and int(negs.max()) < n_items
    owned = {}
    for part in known:
        for u, i in zip(part.users.tolist(), part.items.tolist()):
            owned.setdefault(u, set()).add(i)
    for row, user in enumerate(target.users.tolist()):
        values = negs[row].tolist()
        assert not owned[user] & set(values), f"row {row} contains a known item of user {user}"
        assert len(set(values)) == 99, f"row {row} repeats an item"


def test_sample_eval_negatives_deterministic_by_seed() -> None:
    known, target, n_items = _known_parts()
    a = sample_eval_negatives(known, target, n_items, seed=3)
    b = sample_eval_negatives(known, target, n_items, seed=3)
    c = sample_eval_negatives(known, target, n_items, seed=4)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


# ---------------------------------------------------------------------------------- rating error

class PairTable(Recommender):
    """score_pairs returns a prediction from a lookup keyed by (user, item)."""

    def __init__(self, table: dict[tuple[int, int], float]) -> None:
        super().__init__(3, 3)
        self.table = table

    def score_pairs(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        return torch.tensor([self.table[(u, i)] for u, i in zip(users.tolist(), items.tolist())])


@pytest.mark.parametrize("batch_rows", [1, 3, 65536])
def test_rating_error_by_hand_with_clipping(batch_rows: int) -> None:
    pairs = [(0, 0), (0, 1), (1, 2), (2, 0)]
    model = PairTable({(0, 0): 0.5, (0, 1): 3.0, (1, 2): 6.0, (2, 0): 4.0})
    target = inter(pairs, ratings=[1.0, 4.0, 5.0, 2.0])
    result = rating_error(model, target, (1.0, 5.0), batch_rows=batch_rows)
    # clipped predictions [1, 3, 5, 4]; errors vs [1, 4, 5, 2] = [0, -1, 0, 2]
    # RMSE = sqrt((0 + 1 + 0 + 4) / 4) = sqrt(1.25) = 1.1180339887
    # MAE  = (0 + 1 + 0 + 2) / 4 = 0.75
    # (unclipped would give RMSE sqrt(6.25/4) = 1.25, MAE 4.5/4 = 1.125)
    assert result["rmse"] == pytest.approx(1.1180339887, abs=1e-6)
    assert result["mae"] == pytest.approx(0.75, abs=1e-6)
    assert result["eval_rows"] == 4.0


def test_rating_error_needs_ratings() -> None:
    with pytest.raises(ValueError, match="ratings"):
        rating_error(PairTable({}), inter([(0, 0)]), (1.0, 5.0))
