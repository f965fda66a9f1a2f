"""Training tasks: how a model is fed and what loss it minimises, kept apart from the models.

- ``PointwiseTask``: binary cross-entropy on observed pairs plus ``num_negatives`` sampled
  unobserved items per pair (the NCF paper's implicit-feedback objective).
- ``PairwiseTask``: BPR, one sampled negative per observed pair, L2 on the embeddings the batch
  touched (the LightGCN paper's objective); optionally each pair's term weighted (recency).
- ``SoftmaxTask``: sampled softmax, each observed pair against one set of uniformly drawn items the
  whole batch shares, on cosine similarities over a temperature (LightGCN; converges in far fewer
  epochs than BPR's single negative).
- ``RatingTask``: mean squared error on explicit ratings.
Each epoch draws fresh negatives in one vectorised call, then walks shuffled mini-batches.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
import torch.nn.functional as F

from models.base import Recommender
from training.data.types import Interactions
from training.sampling import InteractionIndex, sample_negatives


class Task:
    loss_name = "loss"

    def batches(self, epoch: int) -> Iterator[tuple[torch.Tensor, ...]]:
        raise NotImplementedError

    def loss(self, model: Recommender, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        raise NotImplementedError

    def n_batches(self) -> int:
        raise NotImplementedError


class _ShuffledPairs(Task):
    def __init__(self, train: Interactions, n_items: int, batch_size: int, seed: int, device: torch.device) -> None:
        self.device = device
        self.batch_size = batch_size
        self.n_items = n_items
        self.users = torch.from_numpy(train.users).to(device)
        self.items = torch.from_numpy(train.items).to(device)
        self.index = InteractionIndex(train.users, train.items, n_items, device)
        self.generator = torch.Generator(device=device).manual_seed(seed)

    def _permutation(self, n: int) -> torch.Tensor:
        return torch.randperm(n, device=self.device, generator=self.generator)

    def _rows_per_epoch(self) -> int:
        return len(self.users)

    def n_batches(self) -> int:
        return -(-self._rows_per_epoch() // self.batch_size)


class PointwiseTask(_ShuffledPairs):
    loss_name = "bce"

    def __init__(self, train: Interactions, n_items: int, batch_size: int = 256, num_negatives: int = 4,
                 seed: int = 0, device: torch.device = torch.device("cpu")) -> None:
        super().__init__(train, n_items, batch_size, seed, device)
        self.num_negatives = num_negatives

    def _rows_per_epoch(self) -> int:
        return len(self.users) * (1 + self.num_negatives)

    def batches(self, epoch: int) -> Iterator[tuple[torch.Tensor, ...]]:
        negatives = sample_negatives(self.index, self.users, self.num_negatives, self.generator)
        users = torch.cat([self.users, self.users.repeat_interleave(self.num_negatives)])
        items = torch.cat([self.items, negatives.reshape(-1)])
        labels = torch.cat([torch.ones(len(self.users), device=self.device),
                            torch.zeros(negatives.numel(), device=self.device)])
        order = self._permutation(len(users))
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            yield users[idx], items[idx], labels[idx]

    def loss(self, model: Recommender, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        users, items, labels = batch
        return F.binary_cross_entropy_with_logits(model.score_pairs(users, items), labels)


class PairwiseTask(_ShuffledPairs):
    loss_name = "bpr"

    def __init__(self, train: Interactions, n_items: int, batch_size: int = 2048, reg: float = 1e-4,
                 seed: int = 0, device: torch.device = torch.device("cpu"), hard_negatives: int = 1,
                 hard_negative_rank: int = 1, hard_negatives_share: float = 1.0,
                 hard_negative_mixing: bool = False, pair_weights: np.ndarray | None = None) -> None:
        super().__init__(train, n_items, batch_size, seed, device)
        self.reg = reg
        if pair_weights is not None and pair_weights.shape != (len(train),):
            raise ValueError(f"one weight per training pair: {pair_weights.shape} for {len(train)} pairs")
        # None: the plain mean over the batch, the paper's (and one multiply fewer per step)
        self.pair_weights = None if pair_weights is None else torch.from_numpy(
            np.ascontiguousarray(pair_weights, dtype=np.float32)).to(device)
        if hard_negatives < 1:
            raise ValueError(f"hard_negatives counts the candidates drawn per pair: >= 1, got {hard_negatives}")
        if not 1 <= hard_negative_rank <= hard_negatives:
            raise ValueError(f"hard_negative_rank picks one of the {hard_negatives} candidates by score: "
                             f"1..{hard_negatives}, got {hard_negative_rank}")
        if hard_negative_mixing and (hard_negatives < 2 or hard_negative_rank != 1):
            raise ValueError("hard_negative_mixing synthesises the negative from the candidates' best scores: "
                             f"it needs hard_negatives >= 2 and rank 1, got {hard_negatives} and {hard_negative_rank}")
        self.hard_negatives = hard_negatives
        self.hard_negative_rank = hard_negative_rank
        self.hard_negatives_share = hard_negatives_share
        self.hard_negative_mixing = hard_negative_mixing

    def reached(self, progress: float) -> bool:
        """Told how far into its training the run is (0 to 1) before each epoch: past the share of it
        on hard negatives, the draw turns uniform. True when this call turned it."""
        if self.hard_negatives > 1 and progress >= self.hard_negatives_share:
            self.hard_negatives = 1
            return True
        return False

    def batches(self, epoch: int) -> Iterator[tuple[torch.Tensor, ...]]:
        negatives = sample_negatives(self.index, self.users, self.hard_negatives, self.generator)
        if self.hard_negatives == 1:
            negatives = negatives.squeeze(1)
        order = self._permutation(len(self.users))
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            if self.pair_weights is None:
                yield self.users[idx], self.items[idx], negatives[idx]
            else:
                yield self.users[idx], self.items[idx], negatives[idx], self.pair_weights[idx]

    def loss(self, model: Recommender, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        users, positives, negatives = batch[:3]
        if negatives.dim() == 2:
            pos, neg, negatives = self._candidate_negative(model, users, positives, negatives)
        else:
            pos, neg = model.score_triplets(users, positives, negatives)
        terms = F.softplus(neg - pos)
        bpr = terms.mean() if len(batch) == 3 else (terms * batch[3]).mean()
        if self.reg <= 0:
            return bpr
        # As in the LightGCN paper's code: 1/2 * ||E0 of the batch||^2 / batch size.
        return bpr + self.reg * 0.5 * model.l2_terms(users, positives, negatives) / len(users)

    def _candidate_negative(self, model: Recommender, users: torch.Tensor, positives: torch.Tensor,
                            candidates: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Scores of each pair's positive and of the negative made from its candidates, and the items
        the L2 term touches. Dynamic negative sampling (Zhang et al., SIGIR 2013): the candidate the
        model now scores highest; with rank N > 1 the N-th highest (DNS(M, N), Shi et al., WWW 2023),
        meant to be less often an unseen item the user will like (on Gowalla it trains worse:
        docs/benchmarks.md). With mixing, MixGCF (Huang et al., KDD 2021): a negative synthesised
        layer by layer from the candidates, each mixed with the positive."""
        if self.hard_negative_mixing:
            embeddings, extra, verb = getattr(model, "mixed_negative_embeddings", None), self.generator, "mix"
        else:
            embeddings, extra, verb = (getattr(model, "hardest_negative_embeddings", None), self.hard_negative_rank,
                                       "pick")
        if embeddings is None:
            raise ValueError(f"{model.name} cannot {verb} hard negatives (lightgcn can)")
        user_rows, positive_rows, negative_rows, chosen = embeddings(users, positives, candidates, extra)
        return (user_rows * positive_rows).sum(-1), (user_rows * negative_rows).sum(-1), chosen


class SoftmaxTask(_ShuffledPairs):
    """Sampled softmax over cosine similarities: -log e^(cos(u,p)/t) / (e^(cos(u,p)/t) + sum_n e^(cos(u,n)/t)).

    The negatives are ``num_negatives`` items drawn uniformly once per batch and shared by all its
    rows (one (batch x negatives) matrix product instead of a gather per row); a draw that is the
    row's own positive is masked out. Uniform draws need no popularity correction.
    """

    loss_name = "softmax"

    def __init__(self, train: Interactions, n_items: int, batch_size: int = 16384, num_negatives: int = 1024,
                 temperature: float = 0.1, reg: float = 0.0, seed: int = 0,
                 device: torch.device = torch.device("cpu")) -> None:
        super().__init__(train, n_items, batch_size, seed, device)
        self.num_negatives, self.temperature, self.reg = num_negatives, temperature, reg

    def batches(self, epoch: int) -> Iterator[tuple[torch.Tensor, ...]]:
        order = self._permutation(len(self.users))
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            negatives = torch.randint(0, self.n_items, (self.num_negatives,), device=self.device,
                                      generator=self.generator)
            yield self.users[idx], self.items[idx], negatives

    def loss(self, model: Recommender, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        users, positives, negatives = batch
        user_rows, positive_rows, negative_rows = model.batch_embeddings(users, positives, negatives)
        # the temperature goes into the user side once, not into the (batch x negatives) matrix
        u = F.normalize(user_rows, dim=-1) / self.temperature
        positive = (u * F.normalize(positive_rows, dim=-1)).sum(-1)
        negative = u @ F.normalize(negative_rows, dim=-1).T
        negative.masked_fill_(positives[:, None] == negatives[None, :], float("-inf"))
        loss = (torch.logaddexp(positive, torch.logsumexp(negative, dim=1)) - positive).mean()
        if self.reg <= 0:
            return loss
        return loss + self.reg * 0.5 * model.l2_terms(users, positives, negatives) / len(users)


class RatingTask(_ShuffledPairs):
    loss_name = "mse"

    def __init__(self, train: Interactions, n_items: int, batch_size: int = 256, reg: float = 0.0,
                 seed: int = 0, device: torch.device = torch.device("cpu")) -> None:
        if train.ratings is None or np.isnan(train.ratings).all():
            raise ValueError("explicit feedback needs ratings; this dataset has none (use --feedback implicit)")
        super().__init__(train, n_items, batch_size, seed, device)
        self.ratings = torch.from_numpy(train.ratings.astype(np.float32)).to(device)
        self.reg = reg
        self.mean_rating = float(self.ratings.mean())

    def batches(self, epoch: int) -> Iterator[tuple[torch.Tensor, ...]]:
        order = self._permutation(len(self.users))
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            yield self.users[idx], self.items[idx], self.ratings[idx]

    def loss(self, model: Recommender, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        users, items, ratings = batch
        mse = F.mse_loss(model.score_pairs(users, items), ratings)
        if self.reg <= 0:
            return mse
        return mse + self.reg * model.l2_terms(users, items) / len(users)


def start_from_mean_rating(model: Recommender, mean_rating: float) -> None:
    """Set the output bias to the mean rating so regression starts from the right level."""
    with torch.no_grad():
        if hasattr(model, "global_bias"):
            model.global_bias.fill_(mean_rating)
        elif hasattr(model, "out"):
            model.out.bias.fill_(mean_rating)
