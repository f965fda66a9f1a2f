"""The popularity measure of benchmarks.ranking_drift: what each user's top items weigh."""

from __future__ import annotations

import numpy as np
import torch

from benchmarks.ranking_drift import top_popularity
from training.data.types import Interactions
from training.evaluation import UserItems


def test_top_items_are_weighed_per_user_without_the_users_training_items():
    users = np.array([0, 1], dtype=np.int64)
    items = np.array([0, 3], dtype=np.int64)  # user 0 has item 0, user 1 item 3
    seen = UserItems([Interactions(users, items)], n_users=2, device="cpu")
    user_vectors = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    item_vectors = torch.tensor([[4.0, 0.0], [3.0, 0.0], [2.0, 0.0], [1.0, 0.0]])  # 4 > 3 > 2 > 1 for both users
    weights = np.array([10.0, 20.0, 30.0, 40.0])
    # user 0 (item 0 excluded): items 1 and 2 -> 25; user 1 (item 3 excluded): items 0 and 1 -> 15
    assert top_popularity(user_vectors, item_vectors, seen, weights, k=2) == 20.0
