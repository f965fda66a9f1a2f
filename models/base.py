"""The contract every model meets, so trainers, evaluation and artifacts treat them alike."""

from __future__ import annotations

import torch
from torch import nn


class Recommender(nn.Module):
    """Scores (user, item) pairs. Modules only compute scores: losses and sampling live in
    ``training.tasks`` so a model can be trained pointwise, pairwise or on ratings unchanged."""

    #: registry name, written into artifacts
    name: str = "base"

    def __init__(self, n_users: int, n_items: int) -> None:
        super().__init__()
        self.n_users = n_users
        self.n_items = n_items

    def hyperparameters(self) -> dict[str, object]:
        """Constructor keyword arguments (besides n_users/n_items) needed to rebuild the module."""
        return {}

    def score_pairs(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """Raw scores (logits for implicit feedback, ratings for explicit) for aligned pairs."""
        raise NotImplementedError

    def score_candidates(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """Scores for a (B, C) matrix of candidate items per user, in one batched pass."""
        b, c = items.shape
        return self.score_pairs(users.repeat_interleave(c), items.reshape(-1)).view(b, c)

    def score_all(self, users: torch.Tensor) -> torch.Tensor:
        """(B, n_items) scores for every item, as a fresh tensor the caller may modify in place;
        overridden where a faster form exists."""
        items = torch.arange(self.n_items, device=users.device).expand(len(users), -1)
        return self.score_candidates(users, items)

    def score_triplets(self, users: torch.Tensor, positives: torch.Tensor,
                       negatives: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Scores of (user, positive) and (user, negative) pairs, for pairwise losses."""
        return self.score_pairs(users, positives), self.score_pairs(users, negatives)

    def prepare_for_eval(self) -> None:
        """Hook to cache anything evaluation reuses across batches (e.g. propagated embeddings)."""

    def l2_terms(self, users: torch.Tensor, *item_groups: torch.Tensor) -> torch.Tensor:
        """Squared L2 norm of the parameters a batch touched (for per-batch regularisation)."""
        return torch.zeros((), device=users.device)
