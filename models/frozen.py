"""Inference-only model over fixed user and item vectors (a trained LightGCN's propagated
embeddings): serving and re-evaluation never rebuild the graph."""

from __future__ import annotations

import numpy as np
import torch

from models.base import Recommender


class FrozenEmbeddings(Recommender):
    name = "embeddings"

    def __init__(self, user_embeddings: np.ndarray, item_embeddings: np.ndarray) -> None:
        super().__init__(len(user_embeddings), len(item_embeddings))
        self.register_buffer("users", torch.from_numpy(np.ascontiguousarray(user_embeddings, dtype=np.float32)))
        self.register_buffer("items", torch.from_numpy(np.ascontiguousarray(item_embeddings, dtype=np.float32)))

    def score_pairs(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        return (self.users[users] * self.items[items]).sum(-1)

    def score_candidates(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        return torch.einsum("bd,bcd->bc", self.users[users], self.items[items])

    def score_all(self, users: torch.Tensor) -> torch.Tensor:
        return self.users[users] @ self.items.T
