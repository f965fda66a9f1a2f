"""The embedding service's model and its memory of fresh interactions.

:class:`EmbeddingModel` is what an artifact provides (trained user vectors, final item vectors,
item degrees, users' training items and, for a model trained with a recent-item weight, each
user's most recent item, blended into the vector it sends: core/recent_item.py).
:class:`RecentInteractions` remembers, per user, the item ids recorded since the model was trained,
bounded per user and in number of users (least recently updated users are forgotten first), so
memory stays flat under any event rate. Ids, not the model's
item indices: a hot reload swaps in a model whose indices mean other items, and the memory must
stay true across it.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.artifact import open_artifact
from core.recent_item import blend_recent_item
from services.embedding.foldin import fold_in


@dataclass
class UserVector:
    vector: np.ndarray | None  # None: cold user, nothing known
    folded_in: bool
    seen: np.ndarray  # item indices the user already has


@dataclass
class EmbeddingModel:
    version: str
    user_index: dict[str, int]
    item_ids: list[str]
    item_index: dict[str, int]
    user_vectors: np.ndarray
    item_vectors: np.ndarray
    item_degree: np.ndarray
    seen_indptr: np.ndarray
    seen_indices: np.ndarray
    data_read_at: float = 0.0  # interactions after this time are not in the model (seconds since 1970)
    recent_item_weight: float = 0.0
    recent_items: np.ndarray | None = None  # each user's most recent training item (-1: none)
    # what a trained user with nothing new is sent: its vector with its recent item blended in,
    # the same bits retrieval's precomputed candidates were ranked by (None: the user vectors)
    query_vectors: np.ndarray | None = None

    @classmethod
    def from_artifact(cls, artifact: Path) -> EmbeddingModel:
        stored = open_artifact(artifact, needs=("embeddings",))
        users, items = stored.embeddings()
        seen, item_ids = stored.seen, stored.item_ids
        weight = stored.recent_item_weight
        recent = stored.recent_items() if weight else None
        blended = recent is not None
        return cls(stored.version, {u: i for i, u in enumerate(stored.user_ids)}, item_ids,
                   {v: i for i, v in enumerate(item_ids)}, users, items,
                   seen.popularity.astype(np.float64), seen.indptr, seen.indices, stored.data_read_at,
                   weight if blended else 0.0, recent if blended else None,
                   stored.query_vectors((users, items)) if blended else None)

    @property
    def dim(self) -> int:
        return int(self.item_vectors.shape[1])

    def indices(self, item_ids: list[str]) -> list[int]:
        """This model's indices of ``item_ids``; ids it does not know (items newer than it, or
        dropped from its catalogue) are left out."""
        index = self.item_index
        return [index[item] for item in item_ids if item in index]

    def training_items(self, user: int) -> np.ndarray:
        return self.seen_indices[self.seen_indptr[user] : self.seen_indptr[user + 1]]

    def _with_recent(self, vector: np.ndarray, item: int) -> np.ndarray:
        if not self.recent_item_weight:
            return vector
        return blend_recent_item(vector, self.item_vectors, np.int64(item), self.recent_item_weight)

    def user_vector(self, user_id: str, fresh: list[int]) -> UserVector:
        """Trained vector, trained vector updated with fresh items (this model's indices, oldest
        first), or a pure fold-in; with a recent-item weight, the newest fresh item replaces the
        training data's most recent one in the blend."""
        user = self.user_index.get(user_id)
        fresh_items = np.asarray(fresh, dtype=np.int64)
        if user is None:
            if not len(fresh_items):
                return UserVector(None, False, np.zeros(0, dtype=np.int64))
            folded = fold_in(self.item_vectors, self.item_degree, fresh_items)
            return UserVector(self._with_recent(folded, fresh_items[-1]), True, np.unique(fresh_items))
        trained = self.training_items(user)
        query = self.user_vectors if self.query_vectors is None else self.query_vectors
        if not len(fresh_items):  # the common case: nothing new since training
            return UserVector(query[user], False, trained)
        newest = int(fresh_items[-1])
        same_recent = self.recent_items is None or newest == int(self.recent_items[user])
        new = np.setdiff1d(fresh_items, trained)
        if not len(new):
            if same_recent:
                return UserVector(query[user], False, trained)
            # a training item touched again: the same neighbourhood, a new most recent item
            return UserVector(self._with_recent(self.user_vectors[user], newest), True, trained)
        vector = fold_in(self.item_vectors, self.item_degree, new, trained=self.user_vectors[user],
                         trained_degree=len(trained))
        return UserVector(self._with_recent(vector, newest), True, np.union1d(trained, new))


class RecentInteractions:
    """Per-user item ids recorded since training, with LRU eviction of whole users."""

    def __init__(self, max_users: int = 1_000_000, max_items_per_user: int = 200) -> None:
        self.max_users = max_users
        self.max_items_per_user = max_items_per_user
        self._items: OrderedDict[str, list[str]] = OrderedDict()

    def add(self, user_id: str, items: list[str]) -> None:
        """Remember ``items`` as the user's newest; an item already remembered moves to the end
        (a user's fresh items are a set: a re-read or repeated event adds nothing)."""
        new = dict.fromkeys(items)
        current = [item for item in self._items.pop(user_id, []) if item not in new]
        current.extend(new)
        self._items[user_id] = current[-self.max_items_per_user :]
        while len(self._items) > self.max_users:
            self._items.popitem(last=False)

    def get(self, user_id: str) -> list[str]:
        return list(self._items.get(user_id, ()))

    def __len__(self) -> int:
        return len(self._items)
