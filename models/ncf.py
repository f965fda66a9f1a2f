"""Neural Collaborative Filtering (He et al., WWW 2017): GMF, MLP and their fusion NeuMF.

Initialisation follows the paper's code: embeddings N(0, 0.01), towers Xavier/He-style, and NeuMF
can start from trained GMF and MLP with the output layer mixed by ``alpha``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from models.base import Recommender

# Full ranking scores the MLP tower in item chunks of at most this many first-layer activations
# (4 MiB of float32): memory stays bounded whatever the catalogue size, and each chunk's passes
# (add, ReLU, the smaller layers) stay in cache; 2^24 was 3.5x slower, 2^16 1.6x (19k x 12k, 2 cores).
CHUNK_ELEMENTS = 1 << 20


def _embedding(n: int, dim: int) -> nn.Embedding:
    emb = nn.Embedding(n, dim)
    nn.init.normal_(emb.weight, std=0.01)
    return emb


def _tower(layers: list[int], dropout: float) -> nn.Sequential:
    blocks: list[nn.Module] = []
    for fan_in, fan_out in zip(layers[:-1], layers[1:]):
        linear = nn.Linear(fan_in, fan_out)
        nn.init.xavier_uniform_(linear.weight)
        nn.init.zeros_(linear.bias)
        blocks += [linear, nn.ReLU()]
        if dropout > 0:
            blocks.append(nn.Dropout(dropout))
    return nn.Sequential(*blocks)


def _output(fan_in: int) -> nn.Linear:
    linear = nn.Linear(fan_in, 1)
    nn.init.kaiming_uniform_(linear.weight, a=1, nonlinearity="sigmoid")
    nn.init.zeros_(linear.bias)
    return linear


class GMF(Recommender):
    """Generalised matrix factorisation: h^T (p_u * q_i)."""

    name = "gmf"

    def __init__(self, n_users: int, n_items: int, embedding_dim: int = 32) -> None:
        super().__init__(n_users, n_items)
        self.embedding_dim = embedding_dim
        self.user = _embedding(n_users, embedding_dim)
        self.item = _embedding(n_items, embedding_dim)
        self.out = _output(embedding_dim)

    def hyperparameters(self) -> dict[str, object]:
        return {"embedding_dim": self.embedding_dim}

    def features(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        return self.user(users) * self.item(items)

    def score_pairs(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        return self.out(self.features(users, items)).squeeze(-1)

    def score_all(self, users: torch.Tensor) -> torch.Tensor:
        # h^T (p_u * q_i) = (p_u * h) . q_i: one matmul instead of B x n_items products.
        weighted = self.user(users) * self.out.weight.squeeze(0)
        return weighted @ self.item.weight.T + self.out.bias


class MLP(Recommender):
    """Concatenated user/item embeddings through a ReLU tower; layers[0] = 2 * embedding size."""

    name = "mlp"

    def __init__(self, n_users: int, n_items: int, layers: tuple[int, ...] = (64, 32, 16, 8),
                 dropout: float = 0.0) -> None:
        super().__init__(n_users, n_items)
        if len(layers) < 2 or layers[0] % 2:
            raise ValueError(f"MLP layers must have >= 2 sizes and an even first size, got {layers}")
        self.layers = tuple(int(x) for x in layers)
        self.dropout = dropout
        self.user = _embedding(n_users, self.layers[0] // 2)
        self.item = _embedding(n_items, self.layers[0] // 2)
        self.tower = _tower(list(self.layers), dropout)
        self.out = _output(self.layers[-1])

    def hyperparameters(self) -> dict[str, object]:
        return {"layers": list(self.layers), "dropout": self.dropout}

    def features(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        return self.tower(torch.cat([self.user(users), self.item(items)], dim=-1))

    def score_pairs(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        return self.out(self.features(users, items)).squeeze(-1)

    def score_all(self, users: torch.Tensor) -> torch.Tensor:
        weight = self.out.weight.squeeze(0)
        return self.tower_all(users, lambda features: features @ weight) + self.out.bias

    def tower_all(self, users: torch.Tensor, head: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
        """``head(tower features)`` for every (user, item): (B, n_items), in item chunks of bounded size.

        The first layer of [p_u; q_i] is W_u p_u + W_i q_i + b, so both halves are projected once
        (B + n_items rows) instead of once per pair; each chunk then only adds them and runs the
        smaller layers above. No (user, item) pair's embeddings are ever gathered or concatenated.
        """
        first, half = self.tower[0], self.layers[0] // 2
        user_part = self.user(users) @ first.weight[:, :half].T + first.bias  # (B, h1)
        item_part = self.item.weight @ first.weight[:, half:].T  # (n_items, h1)
        rest = self.tower[1:]  # ReLU, (Dropout,) then the smaller layers
        chunk = max(1, CHUNK_ELEMENTS // max(1, len(users) * first.out_features))
        scores = torch.empty(len(users), self.n_items, device=users.device, dtype=user_part.dtype)
        for start in range(0, self.n_items, chunk):
            hidden = user_part[:, None, :] + item_part[None, start:start + chunk, :]  # (B, c, h1)
            scores[:, start:start + chunk] = head(rest(hidden))
        return scores


class NeuMF(Recommender):
    """GMF and MLP branches with separate embeddings, fused by one output layer."""

    name = "neumf"

    def __init__(self, n_users: int, n_items: int, embedding_dim: int = 32,
                 layers: tuple[int, ...] = (64, 32, 16, 8), dropout: float = 0.0) -> None:
        super().__init__(n_users, n_items)
        self.gmf = GMF(n_users, n_items, embedding_dim)
        self.mlp = MLP(n_users, n_items, layers, dropout)
        del self.gmf.out, self.mlp.out  # NeuMF has a single fused output layer
        self.out = _output(embedding_dim + self.mlp.layers[-1])

    def hyperparameters(self) -> dict[str, object]:
        return {"embedding_dim": self.gmf.embedding_dim, "layers": list(self.mlp.layers),
                "dropout": self.mlp.dropout}

    def score_pairs(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        fused = torch.cat([self.gmf.features(users, items), self.mlp.features(users, items)], dim=-1)
        return self.out(fused).squeeze(-1)

    def score_all(self, users: torch.Tensor) -> torch.Tensor:
        gmf_weight, mlp_weight = self.out.weight.squeeze(0).split([self.gmf.embedding_dim, self.mlp.layers[-1]])
        # the GMF branch's share is one matmul (as in GMF.score_all); the MLP's goes through its tower
        gmf = (self.gmf.user(users) * gmf_weight) @ self.gmf.item.weight.T
        return self.mlp.tower_all(users, lambda features: features @ mlp_weight) + gmf + self.out.bias

    @torch.no_grad()
    def load_pretrained(self, gmf: GMF, mlp: MLP, alpha: float = 0.5) -> None:
        """The paper's pre-training: copy both branches, output = [alpha*h_gmf, (1-alpha)*h_mlp]."""
        if gmf.embedding_dim != self.gmf.embedding_dim or mlp.layers != self.mlp.layers:
            raise ValueError("pretrained GMF/MLP sizes differ from this NeuMF's embedding_dim/layers")
        self.gmf.user.weight.copy_(gmf.user.weight)
        self.gmf.item.weight.copy_(gmf.item.weight)
        self.mlp.load_state_dict({k: v for k, v in mlp.state_dict().items() if not k.startswith("out.")})
        self.out.weight.copy_(torch.cat([alpha * gmf.out.weight, (1 - alpha) * mlp.out.weight], dim=1))
        self.out.bias.copy_(alpha * gmf.out.bias + (1 - alpha) * mlp.out.bias)
