"""LightGCN (He et al., SIGIR 2020): K rounds of symmetric-normalised neighbour averaging over the
user-item graph, final embedding = mean of the K+1 layers, scored by inner product.

Speed: the normalised adjacency is built once (vectorised) as a CSR matrix and reused by every
batch; since it is symmetric the backward pass is the same sparse product, which a custom autograd
function exploits (torch's generic CSR backward transposes and is several times slower).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from training.models.base import Recommender


def normalized_adjacency(users: np.ndarray, items: np.ndarray, n_users: int, n_items: int) -> sp.csr_matrix:
    """D^-1/2 A D^-1/2 for the bipartite graph A = [[0, R], [R^T, 0]] (duplicates counted once)."""
    n = n_users + n_items
    rows = np.concatenate([users, items + n_users])
    cols = np.concatenate([items + n_users, users])
    adj = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(n, n))
    adj.data[:] = 1.0  # repeated pairs were summed: an edge is an edge
    degree = np.asarray(adj.sum(axis=1)).ravel()
    inv_sqrt = np.zeros_like(degree)
    inv_sqrt[degree > 0] = degree[degree > 0] ** -0.5
    scale = sp.diags(inv_sqrt.astype(np.float32))
    return (scale @ adj @ scale).tocsr().astype(np.float32)


def to_torch_csr(matrix: sp.csr_matrix, device: torch.device | str) -> torch.Tensor:
    return torch.sparse_csr_tensor(
        torch.from_numpy(matrix.indptr.astype(np.int64)),
        torch.from_numpy(matrix.indices.astype(np.int64)),
        torch.from_numpy(matrix.data),
        size=matrix.shape,
        device=device,
    )


class _SymmetricSpmm(torch.autograd.Function):
    """y = A x for a symmetric sparse A; dL/dx = A^T g = A g."""

    @staticmethod
    def forward(ctx, adjacency: torch.Tensor, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        ctx.adjacency = adjacency
        return adjacency @ x

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
        return None, ctx.adjacency @ grad


class LightGCN(Recommender):
    name = "lightgcn"

    def __init__(self, n_users: int, n_items: int, embedding_dim: int = 64, n_layers: int = 3,
                 init_std: float = 0.1) -> None:
        super().__init__(n_users, n_items)
        self.embedding_dim = embedding_dim
        self.n_layers = n_layers
        self.embedding = nn.Embedding(n_users + n_items, embedding_dim)
        nn.init.normal_(self.embedding.weight, std=init_std)
        self.adjacency: torch.Tensor | None = None
        self._cache: tuple[torch.Tensor, torch.Tensor] | None = None

    def hyperparameters(self) -> dict[str, object]:
        return {"embedding_dim": self.embedding_dim, "n_layers": self.n_layers}

    def set_graph(self, users: np.ndarray, items: np.ndarray) -> "LightGCN":
        """Build the normalised adjacency from training interactions, once."""
        adj = normalized_adjacency(users, items, self.n_users, self.n_items)
        self.adjacency = to_torch_csr(adj, self.embedding.weight.device)
        self._cache = None
        return self

    def _apply(self, fn, recurse=True):  # keep the graph on the module's device after .to()
        super()._apply(fn, recurse)
        if self.adjacency is not None:
            self.adjacency = fn(self.adjacency)
        self._cache = None
        return self

    def train(self, mode: bool = True) -> "LightGCN":
        self._cache = None
        return super().train(mode)

    def _propagate_all(self) -> torch.Tensor:
        """(n_users + n_items, d): mean over layers 0..K of A^k E0."""
        if self.adjacency is None:
            raise RuntimeError("LightGCN.set_graph(train_users, train_items) must be called first")
        layer = self.embedding.weight
        total = layer
        for _ in range(self.n_layers):
            layer = _SymmetricSpmm.apply(self.adjacency, layer)
            total = total + layer
        return total / (self.n_layers + 1)

    def propagate(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Final user and item embeddings."""
        final = self._propagate_all()
        return final[: self.n_users], final[self.n_users :]

    def prepare_for_eval(self) -> None:
        with torch.no_grad():
            self._cache = self.propagate()

    def _embeddings(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self._cache is not None and not self.training:
            return self._cache
        return self.propagate()

    def score_pairs(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        user_emb, item_emb = self._embeddings()
        return (user_emb[users] * item_emb[items]).sum(-1)

    def score_triplets(self, users: torch.Tensor, positives: torch.Tensor,
                       negatives: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.training or self._cache is None:
            # One propagation and one gather: each separate index would add a dense
            # (n_nodes x d) zero-fill and scatter to the backward pass.
            rows = self._propagate_all()[torch.cat([users, positives + self.n_users, negatives + self.n_users])]
            u, p, n = rows.split(len(users))
        else:
            user_emb, item_emb = self._cache
            u, p, n = user_emb[users], item_emb[positives], item_emb[negatives]
        return (u * p).sum(-1), (u * n).sum(-1)

    def score_candidates(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        user_emb, item_emb = self._embeddings()
        return torch.einsum("bd,bcd->bc", user_emb[users], item_emb[items])

    def score_all(self, users: torch.Tensor) -> torch.Tensor:
        user_emb, item_emb = self._embeddings()
        return user_emb[users] @ item_emb.T

    def l2_terms(self, users: torch.Tensor, *item_groups: torch.Tensor) -> torch.Tensor:
        rows = torch.cat([users, *(items + self.n_users for items in item_groups)])
        return self.embedding.weight[rows].pow(2).sum()

    @torch.no_grad()
    def final_embeddings(self) -> tuple[np.ndarray, np.ndarray]:
        user_emb, item_emb = self.propagate()
        return user_emb.float().cpu().numpy(), item_emb.float().cpu().numpy()
