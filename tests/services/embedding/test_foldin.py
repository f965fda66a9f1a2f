"""LightGCN fold-in against the aggregation written out by hand, and against a trained model."""

from __future__ import annotations

import numpy as np
import pytest

from services.embedding.foldin import fold_in
from training.config import TrainConfig
from training.trainer import train


def test_new_user_is_the_normalised_neighbour_sum():
    items = np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 3.0]])
    degree = np.array([4.0, 1.0, 9.0])
    # user with items 0 and 2: |N(u)| = 2 -> e_0 / sqrt(2*4) + e_2 / sqrt(2*9)
    expected = items[0] / np.sqrt(8) + items[2] / np.sqrt(18)
    assert np.allclose(fold_in(items, degree, np.array([0, 2, 2])), expected)


def test_known_user_is_rescaled_and_extended():
    items = np.array([[1.0, 0.0], [0.0, 2.0]])
    trained = np.array([0.5, 0.5])
    # 3 training items, 1 new: sqrt(3/4) * trained + e_1 / sqrt(4 * 1)
    got = fold_in(items, np.array([1.0, 1.0]), np.array([1]), trained=trained, trained_degree=3)
    assert np.allclose(got, np.sqrt(0.75) * trained + items[1] / 2)
    with pytest.raises(ValueError):
        fold_in(items, np.array([1.0, 1.0]), np.array([], dtype=np.int64))


def test_folded_in_user_ranks_their_held_out_items_well(small_dataset):
    """Folding a trained user back in from their own training items recommends like the model."""
    result = train(small_dataset, TrainConfig(model="lightgcn", epochs=10, batch_size=1024, lr=0.01),
                   progress=False, echo=lambda s: None)
    user_emb, item_emb = result.model.final_embeddings()
    degree = np.bincount(small_dataset.train.items, minlength=small_dataset.n_items).astype(np.float64)
    agree, users = 0, range(0, small_dataset.n_users, 25)
    for u in users:
        own = small_dataset.train.items[small_dataset.train.users == u]
        folded = fold_in(item_emb, degree, own)
        top_folded = set(np.argsort(-(item_emb @ folded))[:20])
        top_trained = set(np.argsort(-(item_emb @ user_emb[u]))[:20])
        agree += len(top_folded & top_trained)
    assert agree / (20 * len(users)) > 0.5
