"""Most-popular baseline: every user gets items ranked by training interaction count."""

from __future__ import annotations

import numpy as np
import torch

from models.base import Recommender


class Popularity(Recommender):
    name = "pop"

    def __init__(self, n_users: int, n_items: int) -> None:
        super().__init__(n_users, n_items)
        self.register_buffer("counts", torch.zeros(n_items))

    def fit(self, train_items: np.ndarray) -> Popularity:
        self.counts.copy_(torch.from_numpy(np.bincount(train_items, minlength=self.n_items)).float())
        return self

    def score_pairs(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        return self.counts[items]

    def score_all(self, users: torch.Tensor) -> torch.Tensor:
        return self.counts.repeat(len(users), 1)  # a fresh tensor: callers mask it in place
