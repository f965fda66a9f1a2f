"""Recency-weighted BPR: each pair's place along its user's history, the weights made from it, and
the loss they weigh."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models.lightgcn import LightGCN
from training.config import TrainConfig
from training.data.types import Interactions
from training.recency import history_positions, recency_weights
from training.tasks import PairwiseTask
from training.trainer import train


def test_positions_follow_the_rows_order_within_each_user():
    users = np.array([0, 1, 0, 0, 1, 2])
    assert history_positions(users).tolist() == [0.0, 0.0, 0.5, 1.0, 1.0, 1.0]  # user 2's only row is its latest


def test_positions_follow_the_timestamps_where_there_are_some_and_ties_keep_the_rows_order():
    users = np.array([0, 0, 0, 0, 1, 1])
    timestamps = np.array([30, 10, 20, 20, 5, 1])
    assert history_positions(users, timestamps).tolist() == [1.0, 0.0, 1 / 3, 2 / 3, 1.0, 0.0]


def test_weights_rise_linearly_along_the_history_and_average_one():
    users = np.repeat(np.arange(3), 5)
    weights = recency_weights(users, None, 4.0)
    assert weights.dtype == np.float32 and weights.mean() == pytest.approx(1.0)
    per_user = weights.reshape(3, 5)
    assert np.allclose(per_user, per_user[0]) and per_user[0, -1] / per_user[0, 0] == pytest.approx(5.0)
    assert np.allclose(np.diff(per_user[0]), per_user[0, 1] - per_user[0, 0])
    assert np.all(recency_weights(users, None, 0.0) == 1.0)


def test_exponential_weights_grow_by_a_constant_factor_along_the_history_and_average_one():
    users = np.repeat(np.arange(3), 5)
    weights = recency_weights(users, None, 4.0, shape="exponential")
    assert weights.dtype == np.float32 and weights.mean() == pytest.approx(1.0)
    per_user = weights.reshape(3, 5)
    assert np.allclose(per_user, per_user[0]) and per_user[0, -1] / per_user[0, 0] == pytest.approx(np.exp(4.0))
    assert np.allclose(per_user[0, 1:] / per_user[0, :-1], np.exp(1.0))  # e^(4 x 1/4) per step
    assert np.all(recency_weights(users, None, 0.0, shape="exponential") == 1.0)


def test_a_huge_exponential_weight_leans_on_the_last_pairs_without_overflowing():
    users = np.array([0, 0, 0, 1, 1])
    weights = recency_weights(users, None, 1000.0, shape="exponential")
    assert np.all(np.isfinite(weights)) and weights.mean() == pytest.approx(1.0)
    assert weights[[0, 1, 3]].max() < 1e-30 and weights[2] == pytest.approx(weights[4])


def test_an_unknown_shape_is_refused():
    with pytest.raises(ValueError, match="recency shape must be one of linear, exponential, got 'square'"):
        recency_weights(np.array([0, 0]), None, 1.0, shape="square")


def test_a_negative_weight_is_refused():
    with pytest.raises(ValueError, match="recency weight must be >= 0, got -1"):
        recency_weights(np.array([0, 0]), None, -1.0)


def test_the_bpr_loss_is_the_weighted_mean_of_the_pairs_terms():
    torch.manual_seed(0)
    users, items = np.array([0, 0, 1, 2]), np.array([1, 2, 0, 3])
    model = LightGCN(3, 5, embedding_dim=4, n_layers=2).set_graph(users, items)
    weights = np.array([0.5, 1.5, 0.2, 1.8], dtype=np.float32)
    task = PairwiseTask(Interactions(users=users, items=items), n_items=5, batch_size=8, reg=0.0,
                        pair_weights=weights)
    (batch,) = list(task.batches(0))
    batch_users, positives, negatives, batch_weights = batch
    # each pair keeps its own weight through the shuffle
    by_pair = {(u, p): w for u, p, w in zip(users.tolist(), items.tolist(), weights.tolist(), strict=True)}
    assert batch_weights.tolist() == [by_pair[(u, p)] for u, p in zip(batch_users.tolist(), positives.tolist(),
                                                                        strict=True)]
    user_emb, item_emb = model.propagate()
    terms = torch.nn.functional.softplus((user_emb[batch_users] * (item_emb[negatives] - item_emb[positives])).sum(-1))
    assert torch.isclose(task.loss(model, batch), (terms * batch_weights).mean(), atol=1e-6)
    assert torch.isclose(task.loss(model, batch[:3]), terms.mean(), atol=1e-6)  # unweighted batches as before


def test_one_weight_per_pair_is_required():
    with pytest.raises(ValueError, match=r"one weight per training pair: \(3,\) for 4 pairs"):
        PairwiseTask(Interactions(users=np.array([0, 0, 1, 2]), items=np.array([1, 2, 0, 3])), n_items=5,
                     pair_weights=np.ones(3, dtype=np.float32))


def test_lightgcn_trains_with_recency_weights_and_hard_negatives(small_dataset):
    config = TrainConfig(model="lightgcn", epochs=3, batch_size=1024, lr=0.01, eval_every=100, hard_negatives=4,
                         recency_weight=2.0)
    result = train(small_dataset, config, progress=False, echo=lambda line: None)
    assert result.config.recency_weight == 2.0 and len(result.history) == 3
    assert result.history[-1]["loss"] < result.history[0]["loss"]


def test_the_configured_shape_reaches_the_pairs_weights(small_dataset):
    from training.trainer import make_task

    config = TrainConfig(model="lightgcn", recency_weight=3.0, recency_shape="exponential").resolved()
    task = make_task(config, small_dataset, torch.device("cpu"))
    expected = recency_weights(small_dataset.train.users, small_dataset.train.timestamps, 3.0, "exponential")
    assert np.array_equal(task.pair_weights.cpu().numpy(), expected)


@pytest.mark.parametrize("overrides,message", [
    ({"model": "lightgcn", "recency_weight": -0.5}, "recency weight must be >= 0, got -0.5"),
    ({"model": "lightgcn", "loss": "softmax", "recency_weight": 1.0}, "weighs BPR's pairs; loss 'softmax' takes 0"),
    ({"model": "neumf", "recency_weight": 1.0}, "loss 'bce' takes 0"),
    ({"model": "lightgcn", "recency_weight": 1.0, "recency_shape": "cubic"},
     "recency shape must be one of linear, exponential, got 'cubic'"),
])
def test_recency_settings_are_checked(overrides, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**overrides).resolved()
