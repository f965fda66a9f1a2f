"""Ranking and rating metrics as pure, vectorised functions over per-user hit matrices.

``hits`` is a (n_users, k) boolean/0-1 tensor: hits[u, r] says whether the item user u was shown
at rank r (0-based) is relevant. ``n_relevant`` is each user's number of relevant (test) items.
Every function returns the per-user values; callers average them.
"""

from __future__ import annotations

import torch


def _discounts(k: int, device: torch.device) -> torch.Tensor:
    return 1.0 / torch.log2(torch.arange(2, k + 2, device=device, dtype=torch.float64))


def hit_rate(hits: torch.Tensor) -> torch.Tensor:
    return hits.any(dim=1).double()


def precision(hits: torch.Tensor) -> torch.Tensor:
    return hits.double().sum(dim=1) / hits.shape[1]


def recall(hits: torch.Tensor, n_relevant: torch.Tensor) -> torch.Tensor:
    return hits.double().sum(dim=1) / n_relevant.clamp(min=1).double()


def ndcg(hits: torch.Tensor, n_relevant: torch.Tensor) -> torch.Tensor:
    """DCG over the top k divided by the ideal DCG of min(n_relevant, k) relevant items."""
    k = hits.shape[1]
    disc = _discounts(k, hits.device)
    dcg = (hits.double() * disc).sum(dim=1)
    ideal_cum = torch.cumsum(disc, dim=0)
    ideal = ideal_cum[(n_relevant.clamp(min=1, max=k) - 1).long()]
    return dcg / ideal


def average_precision(hits: torch.Tensor, n_relevant: torch.Tensor) -> torch.Tensor:
    """AP@k: mean of precision@i over the ranks i that hit, normalised by min(n_relevant, k)."""
    k = hits.shape[1]
    h = hits.double()
    precision_at_i = torch.cumsum(h, dim=1) / torch.arange(1, k + 1, device=hits.device, dtype=torch.float64)
    return (precision_at_i * h).sum(dim=1) / n_relevant.clamp(min=1, max=k).double()


def reciprocal_rank(hits: torch.Tensor) -> torch.Tensor:
    """1 / (rank of the first hit, 1-based), 0 when nothing hits within k."""
    any_hit = hits.any(dim=1)
    first = torch.argmax(hits.int(), dim=1).double()
    return torch.where(any_hit, 1.0 / (first + 1.0), torch.zeros((), dtype=torch.float64, device=hits.device))


def ranking_metrics(hits: torch.Tensor, n_relevant: torch.Tensor, ks: list[int]) -> dict[str, torch.Tensor]:
    """Per-user sums of every ranking metric at every k (hits must have >= max(ks) columns)."""
    out: dict[str, torch.Tensor] = {}
    for k in ks:
        top = hits[:, :k]
        out[f"recall@{k}"] = recall(top, n_relevant)
        out[f"precision@{k}"] = precision(top)
        out[f"ndcg@{k}"] = ndcg(top, n_relevant)
        out[f"hr@{k}"] = hit_rate(top)
        out[f"map@{k}"] = average_precision(top, n_relevant)
        out[f"mrr@{k}"] = reciprocal_rank(top)
    return out


def rmse(predicted: torch.Tensor, actual: torch.Tensor) -> float:
    return float(torch.sqrt(torch.mean((predicted.double() - actual.double()) ** 2)))


def mae(predicted: torch.Tensor, actual: torch.Tensor) -> float:
    return float(torch.mean(torch.abs(predicted.double() - actual.double())))
