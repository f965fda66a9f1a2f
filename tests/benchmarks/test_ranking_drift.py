"""The popularity measure of benchmarks.ranking_drift: what each user's top items weigh."""

from __future__ import annotations

import numpy as np
import torch

from benchmarks.ranking_drift import top_popularity
from models.lightgcn import LightGCN
from training.data.dataset import Dataset
from training.data.types import Interactions


def test_top_items_are_weighed_per_user_without_the_users_training_items():
    users = np.array([0, 1], dtype=np.int64)
    items = np.array([0, 3], dtype=np.int64)  # user 0 has item 0, user 1 item 3
    data = Dataset(user_ids=np.array(["a", "b"]), item_ids=np.array(["i0", "i1", "i2", "i3"]),
                   train=Interactions(users, items), valid=None, test=Interactions(users[:0], items[:0]))
    model = LightGCN(2, 4, embedding_dim=2, n_layers=0)
    model.set_graph(users, items, reorder=False)
    with torch.no_grad():  # no propagation: these are the final vectors; items score 4 > 3 > 2 > 1 for both users
        model.embedding.weight.copy_(torch.tensor([[1.0, 0.0], [1.0, 0.0],
                                                   [4.0, 0.0], [3.0, 0.0], [2.0, 0.0], [1.0, 0.0]]))
    weights = np.array([10.0, 20.0, 30.0, 40.0])
    # user 0 (item 0 excluded): items 1 and 2 -> 25; user 1 (item 3 excluded): items 0 and 1 -> 15
    assert top_popularity(model, data, weights, k=2) == 20.0
