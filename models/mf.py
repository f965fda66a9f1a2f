"""Dot-product matrix factorisation with biases (the strong baseline of Rendle et al., 2020)."""

from __future__ import annotations

import torch
from torch import nn

from models.base import Recommender


class MF(Recommender):
    name = "mf"

    def __init__(self, n_users: int, n_items: int, embedding_dim: int = 64) -> None:
        super().__init__(n_users, n_items)
        self.embedding_dim = embedding_dim
        self.user = nn.Embedding(n_users, embedding_dim)
        self.item = nn.Embedding(n_items, embedding_dim)
        self.user_bias = nn.Embedding(n_users, 1)
        self.item_bias = nn.Embedding(n_items, 1)
        self.global_bias = nn.Parameter(torch.zeros(()))
        for emb in (self.user, self.item):
            nn.init.normal_(emb.weight, std=0.1 / embedding_dim ** 0.5)
        nn.init.zeros_(self.user_bias.weight)
        nn.init.zeros_(self.item_bias.weight)

    def hyperparameters(self) -> dict[str, object]:
        return {"embedding_dim": self.embedding_dim}

    def score_pairs(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        dot = (self.user(users) * self.item(items)).sum(-1)
        return dot + self.user_bias(users).squeeze(-1) + self.item_bias(items).squeeze(-1) + self.global_bias

    def score_all(self, users: torch.Tensor) -> torch.Tensor:
        return (self.user(users) @ self.item.weight.T + self.user_bias(users)
                + self.item_bias.weight.T + self.global_bias)

    def l2_terms(self, users: torch.Tensor, *item_groups: torch.Tensor) -> torch.Tensor:
        total = self.user(users).pow(2).sum()
        for items in item_groups:
            total = total + self.item(items).pow(2).sum()
        return total
