"""A trained model read back from its artifact, answering in the caller's original ids."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from core.artifact import Artifact, open_artifact
from core.errors import UnknownIdError
from models.base import Recommender
from models.frozen import FrozenEmbeddings
from models.registry import build_model


class LoadedModel:
    """An artifact's model with its id maps: ``predict`` and ``score`` speak original ids."""

    def __init__(self, artifact: Artifact, model: Recommender) -> None:
        self.artifact = artifact
        self.model = model
        self.user_ids: list[str] = artifact.user_ids
        self.item_ids: list[str] = artifact.item_ids
        seen = artifact.seen
        self.seen_indptr, self.seen_indices, self.popularity = seen.indptr, seen.indices, seen.popularity
        self.user_index = {u: i for i, u in enumerate(self.user_ids)}
        self.item_index = {v: i for i, v in enumerate(self.item_ids)}

    @property
    def path(self) -> Path:
        return self.artifact.path

    @property
    def manifest(self) -> dict:
        return self.artifact.manifest

    @property
    def version(self) -> str:
        return self.artifact.version

    def _user(self, user_id: str) -> int:
        try:
            return self.user_index[str(user_id)]
        except KeyError:
            raise UnknownIdError(f"unknown user '{user_id}': not in this model's training data") from None

    def seen_items(self, user_id: str) -> np.ndarray:
        u = self._user(user_id)
        return self.seen_indices[self.seen_indptr[u] : self.seen_indptr[u + 1]]

    @torch.no_grad()
    def predict(self, user_id: str, n: int = 10, exclude_seen: bool = True) -> list[tuple[str, float]]:
        """Top-``n`` items for a known user, best first, excluding items the user already has."""
        if n <= 0:
            raise ValueError(f"n must be positive, got {n}")
        u = self._user(user_id)
        scores = self.model.score_all(torch.tensor([u])).squeeze(0).float()
        if exclude_seen:
            scores[torch.from_numpy(self.seen_items(user_id))] = -torch.inf
        available = int(torch.isfinite(scores).sum())
        top = torch.topk(scores, min(n, available))
        return [(self.item_ids[i], float(s)) for s, i in zip(top.values.tolist(), top.indices.tolist())]

    @torch.no_grad()
    def score(self, user_id: str, item_ids: list[str]) -> list[tuple[str, float]]:
        """Scores for the given items, in the order given."""
        u = self._user(user_id)
        missing = [i for i in item_ids if str(i) not in self.item_index]
        if missing:
            raise UnknownIdError(f"unknown item(s) {missing[:5]}{'...' if len(missing) > 5 else ''}")
        items = torch.tensor([self.item_index[str(i)] for i in item_ids], dtype=torch.long)
        scores = self.model.score_pairs(torch.full_like(items, u), items).float()
        return list(zip([str(i) for i in item_ids], scores.tolist()))

    def catalogue(self) -> dict[str, dict]:
        """Product metadata by item id, when the artifact carries it."""
        return self.artifact.products()


def load_model(path: str | Path, device: str = "cpu") -> LoadedModel:
    """Load an artifact directory written by training (LightGCN answers from its final embeddings)."""
    artifact = open_artifact(path)
    if artifact.has("embeddings"):
        vectors = artifact.embeddings()
        model: Recommender = FrozenEmbeddings(artifact.query_vectors(vectors), vectors[1])
    else:
        model = build_model(artifact.model_type, artifact.n_users, artifact.n_items, **artifact.hyperparameters)
        model.load_state_dict(torch.load(artifact.weights_path, map_location="cpu", weights_only=True))
    model.to(device).eval()
    return LoadedModel(artifact, model)
