"""Evaluation protocols, batched over users and vectorised.

- ``full_ranking``: the LightGCN paper's protocol: rank every item except those the user has in
  training, report Recall/Precision/NDCG/HR/MAP/MRR@k and catalogue coverage@k.
- ``sampled_ranking``: the NCF paper's protocol: rank each held-out item among it plus 99 sampled
  items the user never interacted with; HR@k, NDCG@k, MRR@k. Ties count against the model.
- ``rating_error``: RMSE and MAE of predicted ratings (explicit feedback).
"""

from __future__ import annotations

import numpy as np
import torch

from models.base import Recommender
from training import metrics
from training.data.types import Interactions
from training.sampling import InteractionIndex, sample_negatives

PROTOCOLS = ("full", "sampled")


class UserItems:
    """Per-user item lists in CSR form on a device, for masking and ground truth."""

    def __init__(self, parts: list[Interactions], n_users: int, device: torch.device | str) -> None:
        users = np.concatenate([p.users for p in parts]) if parts else np.zeros(0, np.int64)
        items = np.concatenate([p.items for p in parts]) if parts else np.zeros(0, np.int64)
        order = np.lexsort((items, users))
        counts = np.bincount(users, minlength=n_users)
        self.indptr = torch.from_numpy(np.r_[0, np.cumsum(counts)]).to(device)
        self.indices = torch.from_numpy(items[order].astype(np.int64)).to(device)
        self.counts = torch.from_numpy(counts).to(device)

    def gather(self, users: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(row position in ``users``, item) pairs for every item of every user in the batch."""
        counts = self.counts[users]
        rows = torch.repeat_interleave(torch.arange(len(users), device=users.device), counts)
        starts = torch.repeat_interleave(self.indptr[users], counts)
        offsets = torch.arange(len(rows), device=users.device) - torch.repeat_interleave(
            torch.cumsum(counts, 0) - counts, counts)
        return rows, self.indices[starts + offsets]


@torch.no_grad()
def full_ranking(model: Recommender, target: Interactions, exclude: list[Interactions], ks: list[int],
                 batch_users: int = 1024, device: torch.device | str = "cpu") -> dict[str, float]:
    """Rank all items for every user in ``target``, excluding the items in ``exclude``."""
    model.eval()
    model.prepare_for_eval()
    n_users, n_items = model.n_users, model.n_items
    truth = UserItems([target], n_users, device)
    seen = UserItems(exclude, n_users, device)
    eval_users = torch.from_numpy(np.unique(target.users)).to(device)
    k_max = min(max(ks), n_items)
    sums: dict[str, float] = {}
    recommended = torch.zeros(len(ks), n_items, dtype=torch.bool, device=device)
    for start in range(0, len(eval_users), batch_users):
        users = eval_users[start : start + batch_users]
        scores = model.score_all(users).float()
        rows, items = seen.gather(users)
        scores[rows, items] = -torch.inf
        top = torch.topk(scores, k_max, dim=1).indices
        relevant = torch.zeros(len(users), n_items, dtype=torch.bool, device=device)
        rows, items = truth.gather(users)
        relevant[rows, items] = True
        hits = relevant.gather(1, top)
        for name, values in metrics.ranking_metrics(hits, truth.counts[users], ks).items():
            sums[name] = sums.get(name, 0.0) + float(values.sum())
        for j, k in enumerate(ks):
            recommended[j, top[:, :k].reshape(-1)] = True
    result = {name: total / len(eval_users) for name, total in sums.items()}
    for j, k in enumerate(ks):
        result[f"coverage@{k}"] = float(recommended[j].sum()) / n_items
    result["eval_users"] = float(len(eval_users))
    return result


def sample_eval_negatives(known: list[Interactions], target: Interactions, n_items: int, n_neg: int = 99,
                          seed: int = 12345, device: torch.device | str = "cpu") -> torch.Tensor:
    """Fixed (seeded) candidates for the sampled protocol: per target row, ``n_neg`` distinct items
    the user has no interaction with in any of ``known`` (train, validation and test)."""
    users = np.concatenate([p.users for p in known])
    items = np.concatenate([p.items for p in known])
    index = InteractionIndex(users, items, n_items, device)
    generator = torch.Generator(device=device).manual_seed(seed)
    return sample_negatives(index, torch.from_numpy(target.users).to(device), n_neg, generator,
                            max_rounds=50, unique_per_row=True)


@torch.no_grad()
def sampled_ranking(model: Recommender, target: Interactions, negatives: torch.Tensor, ks: list[int],
                    batch_rows: int = 4096, device: torch.device | str = "cpu") -> dict[str, float]:
    """Rank each target item among its negatives; rank = #negatives scoring >= the positive."""
    model.eval()
    model.prepare_for_eval()
    users_all = torch.from_numpy(target.users).to(device)
    items_all = torch.from_numpy(target.items).to(device)
    negatives = negatives.to(device)
    k_max = max(ks)
    sums: dict[str, float] = {}
    for start in range(0, len(users_all), batch_rows):
        users = users_all[start : start + batch_rows]
        candidates = torch.cat([items_all[start : start + batch_rows, None], negatives[start : start + batch_rows]], 1)
        scores = model.score_candidates(users, candidates).float()
        rank = (scores[:, 1:] >= scores[:, :1]).sum(dim=1)
        hits = rank[:, None] == torch.arange(k_max, device=device)[None, :]
        one = torch.ones(len(users), dtype=torch.long, device=device)
        for name, values in metrics.ranking_metrics(hits, one, ks).items():
            if name.split("@")[0] in ("hr", "ndcg", "mrr"):
                sums[name] = sums.get(name, 0.0) + float(values.sum())
    result = {name: total / max(1, len(users_all)) for name, total in sums.items()}
    result["eval_rows"] = float(len(users_all))
    result["negatives_per_row"] = float(negatives.shape[1])
    return result


@torch.no_grad()
def rating_error(model: Recommender, target: Interactions, rating_range: tuple[float, float],
                 batch_rows: int = 65536, device: torch.device | str = "cpu") -> dict[str, float]:
    """RMSE and MAE of predictions clipped to the observed rating range."""
    if target.ratings is None:
        raise ValueError("rating_error needs explicit ratings in the evaluation set")
    model.eval()
    predictions = []
    for start in range(0, len(target), batch_rows):
        users = torch.from_numpy(target.users[start : start + batch_rows]).to(device)
        items = torch.from_numpy(target.items[start : start + batch_rows]).to(device)
        predictions.append(model.score_pairs(users, items).float().clamp(*rating_range).cpu())
    predicted = torch.cat(predictions) if predictions else torch.zeros(0)
    actual = torch.from_numpy(target.ratings.astype(np.float32))
    return {"rmse": metrics.rmse(predicted, actual), "mae": metrics.mae(predicted, actual),
            "eval_rows": float(len(target))}
