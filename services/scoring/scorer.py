"""NCF scoring: the loaded model, request checks, and micro-batched forward passes, with
popularity scores for users the model does not know. Transport-free: the gRPC servicer and
`serve all`'s in-process gateway both call it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.errors import InvalidRequest, Unavailable
from core.ids import require_id, require_ids
from core.item_ids import PositionTable
from models.loaded import LoadedModel
from services.common.metrics import set_model_version
from services.scoring.batcher import ScoreBatcher


@dataclass(frozen=True)
class Scored:
    scores: np.ndarray  # float32, aligned with the items asked for; NaN for items the model does not know
    user_known: bool  # False: popularity scores (log1p of interaction counts), not the model's
    model_version: str


class Scorer:
    """NCF scores for a user and candidate items, from whatever model was last loaded."""

    def __init__(self, max_items: int = 1000) -> None:
        self.max_items = max_items
        self._model: LoadedModel | None = None
        self._log_popularity: np.ndarray | None = None
        self._translation = PositionTable()  # from retrieval's id list, matched once per (list, model)
        self.batcher = ScoreBatcher()

    def load(self, model: LoadedModel) -> None:
        # One assignment swaps model and its popularity together (no request sees a mix).
        self._model, self._log_popularity = model, np.log1p(model.popularity.astype(np.float64))
        set_model_version("scoring", model.version)

    def _current(self) -> tuple[LoadedModel, np.ndarray]:
        if self._model is None or self._log_popularity is None:
            raise Unavailable("no model loaded yet; retry once the health check says SERVING")
        return self._model, self._log_popularity

    def _check(self, model: LoadedModel, user_id: str, model_version: str) -> None:
        require_id(user_id, "user_id")
        if model_version and model_version != model.version:
            raise InvalidRequest(f"model_version '{model_version}' is not served (serving '{model.version}')")

    async def score_ids(self, user_id: str, item_ids: Sequence[str], model_version: str = "") -> Scored:
        """Scores of ``user_id`` for ``item_ids`` (what Score serves)."""
        model, log_popularity = self._current()
        self._check(model, user_id, model_version)
        item_ids = require_ids(item_ids, "item_ids", self.max_items)
        positions = np.fromiter((model.item_index.get(i, -1) for i in item_ids), dtype=np.int64, count=len(item_ids))
        return await self._score(model, log_popularity, user_id, positions)

    async def score_candidates(self, user_id: str, item_space: Sequence[str], candidates: np.ndarray) -> Scored:
        """Scores for candidates given as positions in ``item_space`` (retrieval's item id list):
        `serve all`'s gateway passes retrieval's positions as they are, and the ids are matched once
        per (item space, model) pair instead of once per request."""
        model, log_popularity = self._current()
        self._check(model, user_id, "")
        if not 0 < len(candidates) <= self.max_items:
            raise InvalidRequest(f"item_ids holds {len(candidates)} ids; 1..{self.max_items} are allowed")
        positions = self._translation.of(item_space, model.item_index)[candidates]
        return await self._score(model, log_popularity, user_id, positions)

    async def _score(self, model: LoadedModel, log_popularity: np.ndarray, user_id: str,
                     positions: np.ndarray) -> Scored:
        known_items = positions >= 0
        scores = np.full(len(positions), math.nan, dtype=np.float32)
        user = model.user_index.get(user_id)
        if user is None:
            scores[known_items] = log_popularity[positions[known_items]]
        elif known_items.any():
            scores[known_items] = await self.batcher.score(model, user, positions[known_items])
        return Scored(scores, user is not None, model.version)
