"""LightGCN (He et al., SIGIR 2020): K rounds of symmetric-normalised neighbour averaging over the
user-item graph, final embedding = mean of the K+1 layers, scored by inner product.

Speed: the normalised adjacency is built once (vectorised) as a CSR matrix and reused by every
batch; since it is symmetric the backward pass is the same sparse product, which a custom autograd
function exploits (torch's generic CSR backward transposes and is several times slower). The
sparse products are bound by gathering embedding rows from memory, so the nodes are stored in
reverse Cuthill-McKee order, which puts graph neighbours in nearby rows (~1.5x faster products on
Gowalla); ``node_position`` maps a node to its row and every public method speaks node ids.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from scipy.sparse.csgraph import reverse_cuthill_mckee
from torch import nn

from core.recent_item import blend_recent_item
from models.base import Recommender


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
    with warnings.catch_warnings():  # torch flags CSR as beta on every construction; it is what we want
        warnings.filterwarnings("ignore", message="Sparse (CSR tensor support|invariant checks)")
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


def _candidate_scores(user_rows: torch.Tensor, item_table: torch.Tensor, candidates: torch.Tensor,
                      chunk_bytes: int = 4 << 20) -> torch.Tensor:
    """Inner products of each user row (batch x d) with its K candidate items' rows of ``item_table``
    (items x d, or items x layers x d for one score per layer): batch x K (x layers). In chunks of a
    few MB of gathered rows, which stay in cache for the product: a third to a half of the time of
    gathering all 16384 x 32 candidates of a step at once."""
    scores = torch.empty((*candidates.shape, *item_table.shape[1:-1]), dtype=user_rows.dtype,
                         device=user_rows.device)
    row_bytes = candidates.shape[1] * item_table[0].numel() * item_table.element_size()
    chunk = max(1, chunk_bytes // row_bytes)
    for start in range(0, len(candidates), chunk):
        rows = item_table[candidates[start : start + chunk]]
        flat = rows.reshape(len(rows), -1, rows.shape[-1])
        product = torch.bmm(flat, user_rows[start : start + chunk].unsqueeze(2))
        scores[start : start + chunk] = product.view(scores[start : start + chunk].shape)
    return scores


class LightGCN(Recommender):
    name = "lightgcn"

    def __init__(self, n_users: int, n_items: int, embedding_dim: int = 64, n_layers: int = 3,
                 init_std: float = 0.1, cosine: bool = False, recent_item_weight: float = 0.0) -> None:
        super().__init__(n_users, n_items)
        self.embedding_dim = embedding_dim
        self.n_layers = n_layers
        # trained on cosine similarities (the sampled-softmax loss): the final vectors are unit
        # length, so inner products everywhere downstream (retrieval, fold-in) rank by cosine
        self.cosine = cosine
        self.embedding = nn.Embedding(n_users + n_items, embedding_dim)
        nn.init.normal_(self.embedding.weight, std=init_std)
        # node id (users first, then items) -> row of the embedding table and of the adjacency
        self.register_buffer("node_position", torch.arange(n_users + n_items))
        self.adjacency: torch.Tensor | None = None
        self._cache: tuple[torch.Tensor, torch.Tensor] | None = None
        # not weights: each user's most recent item, blended into its query at evaluation and
        # export (core/recent_item.py); the artifact stores them beside the embeddings
        self.recent_items: np.ndarray | None = None
        self.recent_item_weight = float(recent_item_weight)

    def hyperparameters(self) -> dict[str, object]:
        values: dict[str, object] = {"embedding_dim": self.embedding_dim, "n_layers": self.n_layers}
        if self.cosine:  # only when set, so artifacts stay loadable by versions without it
            values["cosine"] = True
        if self.recent_item_weight:
            values["recent_item_weight"] = self.recent_item_weight
        return values

    def set_recent_items(self, recent: np.ndarray, weight: float) -> LightGCN:
        """Rank for each user with its most recent item (``recent[user]``, -1: none) blended into
        its vector at ``weight`` (core/recent_item.py): evaluation and export use the blend, training
        steps do not."""
        if weight < 0:
            raise ValueError(f"the recent-item weight must be >= 0, got {weight}")
        if recent.shape != (self.n_users,):
            raise ValueError(f"one recent item per user ({self.n_users}), got shape {recent.shape}")
        self.recent_items, self.recent_item_weight = recent.astype(np.int64), float(weight)
        self._cache = None
        return self

    def set_graph(self, users: np.ndarray, items: np.ndarray, reorder: bool = True) -> LightGCN:
        """Build the normalised adjacency from training interactions, once; with ``reorder`` the
        rows are laid out in reverse Cuthill-McKee order (each node keeps its embedding)."""
        adj = normalized_adjacency(users, items, self.n_users, self.n_items)
        order = reverse_cuthill_mckee(adj, symmetric_mode=True) if reorder else np.arange(adj.shape[0])
        adj = adj[order][:, order].tocsr()
        device = self.embedding.weight.device
        order_t = torch.from_numpy(order.astype(np.int64)).to(device)
        with torch.no_grad():  # row r of the new table holds node order[r]
            self.embedding.weight.copy_(self.embedding.weight[self.node_position[order_t]])
            self.node_position[order_t] = torch.arange(len(order), device=device)
        self.adjacency = to_torch_csr(adj, device)
        self._cache = None
        return self

    @torch.no_grad()
    def init_from_svd(self, users: np.ndarray, items: np.ndarray, scale: float) -> None:
        """Start from the top singular vectors of the normalised interaction matrix D_u^-1/2 R D_i^-1/2
        (users U sqrt(s), items V sqrt(s), times ``scale``): propagation then only reweights the
        singular directions, so the untrained model is already a low-pass filter of the graph (0.11
        Recall@20 on Gowalla's test split with 64 dimensions, before any step)."""
        from scipy.sparse.linalg import svds

        # the user x item block of the normalised adjacency is exactly that matrix
        adjacency = normalized_adjacency(users, items, self.n_users, self.n_items)
        normalised = adjacency[: self.n_users, self.n_users :].astype(np.float64)
        rank = min(self.embedding_dim, min(normalised.shape) - 1)
        left, singular, right = svds(normalised, k=rank, random_state=0)
        vectors = np.zeros((self.n_users + self.n_items, self.embedding_dim))
        vectors[:, :rank] = np.concatenate([left, right.T]) * np.sqrt(singular) * scale
        weight = torch.from_numpy(vectors.astype(np.float32)).to(self.embedding.weight.device)
        self.embedding.weight[self.node_position] = weight
        self._cache = None

    def _rows(self, nodes: torch.Tensor) -> torch.Tensor:
        return self.node_position[nodes]

    def _apply(self, fn, recurse=True):  # keep the graph on the module's device after .to()
        super()._apply(fn, recurse)
        if self.adjacency is not None:
            self.adjacency = fn(self.adjacency)
        self._cache = None
        return self

    def train(self, mode: bool = True) -> LightGCN:
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
        """Final user and item embeddings, in user and item index order."""
        final = self._propagate_all().index_select(0, self.node_position)
        if self.cosine:
            final = F.normalize(final, dim=-1)
        return final[: self.n_users], final[self.n_users :]

    @torch.no_grad()
    def query_embeddings(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The user vectors ranking uses (with the recent item blended in, when set) and the items'."""
        users, items = self.propagate()
        if self.recent_items is None or not self.recent_item_weight:
            return users, items
        blended = blend_recent_item(users.float().cpu().numpy(), items.float().cpu().numpy(), self.recent_items,
                                    self.recent_item_weight)
        return torch.from_numpy(blended).to(users.device, users.dtype), items

    def prepare_for_eval(self) -> None:
        self._cache = self.query_embeddings()

    def _embeddings(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self.training:
            return self.propagate()
        return self._cache if self._cache is not None else self.query_embeddings()

    def score_pairs(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        user_emb, item_emb = self._embeddings()
        return (user_emb[users] * item_emb[items]).sum(-1)

    def score_triplets(self, users: torch.Tensor, positives: torch.Tensor,
                       negatives: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.training or self._cache is None:
            # One propagation and one gather: each separate index would add a dense
            # (n_nodes x d) zero-fill and scatter to the backward pass. index_select, not
            # table[nodes]: its backward (an index_add) is 3-5x faster than indexing's on the CPU.
            nodes = torch.cat([users, positives + self.n_users, negatives + self.n_users])
            rows = self._propagate_all().index_select(0, self._rows(nodes))
            u, p, n = rows.split(len(users))
        else:
            user_emb, item_emb = self._cache
            u, p, n = user_emb[users], item_emb[positives], item_emb[negatives]
        return (u * p).sum(-1), (u * n).sum(-1)

    def batch_embeddings(self, users: torch.Tensor, *item_groups: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Final embeddings of ``users`` and of each item group, from one propagation."""
        nodes = torch.cat([users, *(items + self.n_users for items in item_groups)])
        rows = self._propagate_all().index_select(0, self._rows(nodes))
        return tuple(rows.split([len(users), *(len(items) for items in item_groups)]))

    def hardest_negative_embeddings(self, users: torch.Tensor, positives: torch.Tensor, candidates: torch.Tensor,
                                    rank: int = 1) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Final embeddings of ``users``, ``positives`` and, of each row of ``candidates`` (batch x K
        items), the one the user's vector scores ``rank``-th highest (1: the hardest), plus those
        items; one propagation. The candidates are scored without gradients, so only the chosen rows
        reach the backward pass."""
        table = self._propagate_all()
        with torch.no_grad():
            user_vectors = table.index_select(0, self._rows(users))
            item_table = table.index_select(0, self.node_position[self.n_users :])
            scores = _candidate_scores(user_vectors, item_table, candidates)
            picked = scores.argmax(1, keepdim=True) if rank == 1 else scores.topk(rank, dim=1).indices[:, rank - 1:]
            chosen = candidates.gather(1, picked).squeeze(1)
        nodes = torch.cat([users, positives + self.n_users, chosen + self.n_users])
        user_rows, positive_rows, negative_rows = table.index_select(0, self._rows(nodes)).split(len(users))
        return user_rows, positive_rows, negative_rows, chosen

    def mixed_negative_embeddings(self, users: torch.Tensor, positives: torch.Tensor, candidates: torch.Tensor,
                                  generator: torch.Generator | None = None
                                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """MixGCF's synthesised negative (Huang et al., KDD 2021), from one propagation: at each layer
        each candidate's vector is mixed with the positive's by a random share per pair and layer
        (positive mixing), that layer's part is the mix of the candidate the user's final vector
        scores highest there (hop mixing), and the negative is the mean of the parts, as the final
        embedding is the mean of the layers. Returns the user, positive and negative rows and the
        candidates chosen at layer 0 (whose table rows the L2 term touches)."""
        if self.adjacency is None:
            raise RuntimeError("LightGCN.set_graph(train_users, train_items) must be called first")
        layers = [self.embedding.weight]
        for _ in range(self.n_layers):
            layers.append(_SymmetricSpmm.apply(self.adjacency, layers[-1]))
        user_nodes, positive_nodes = self._rows(users), self._rows(positives + self.n_users)
        with torch.no_grad():
            user_vectors = sum(layer.index_select(0, user_nodes) for layer in layers) / len(layers)
            item_positions = self.node_position[self.n_users :]
            item_layers = torch.stack([layer.index_select(0, item_positions) for layer in layers], dim=1)
            # the share mixed in is the same for every candidate of a pair and layer, so it does not
            # change which candidate scores highest: the unmixed scores choose
            scores = _candidate_scores(user_vectors, item_layers, candidates)  # batch x K x layers
            chosen = candidates.gather(1, scores.transpose(1, 2).contiguous().argmax(2))  # batch x layers
            chosen_nodes = self._rows(chosen + self.n_users)
        share = torch.rand((len(layers), len(users), 1), generator=generator, device=candidates.device)
        user_rows = positive_rows = negative_rows = 0
        for layer_index, layer in enumerate(layers):
            # one gather per layer: each adds a zero-filled copy of the layer to the backward pass
            nodes = torch.cat([user_nodes, positive_nodes, chosen_nodes[:, layer_index]])
            user_part, positive_part, chosen_part = layer.index_select(0, nodes).split(len(users))
            user_rows = user_rows + user_part
            positive_rows = positive_rows + positive_part
            negative_rows = negative_rows + share[layer_index] * positive_part + (1 - share[layer_index]) * chosen_part
        n_layers = len(layers)
        return user_rows / n_layers, positive_rows / n_layers, negative_rows / n_layers, chosen[:, 0]

    def score_candidates(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        user_emb, item_emb = self._embeddings()
        return torch.einsum("bd,bcd->bc", user_emb[users], item_emb[items])

    def score_all(self, users: torch.Tensor) -> torch.Tensor:
        user_emb, item_emb = self._embeddings()
        return user_emb[users] @ item_emb.T

    def l2_terms(self, users: torch.Tensor, *item_groups: torch.Tensor) -> torch.Tensor:
        nodes = torch.cat([users, *(items + self.n_users for items in item_groups)])
        return self.embedding.weight.index_select(0, self._rows(nodes)).pow(2).sum()

    @torch.no_grad()
    def final_embeddings(self) -> tuple[np.ndarray, np.ndarray]:
        user_emb, item_emb = self.propagate()
        return user_emb.float().cpu().numpy(), item_emb.float().cpu().numpy()
