"""ScoringService: protobuf in, one batched forward pass of the loaded NCF model, protobuf out."""

from __future__ import annotations

import math

import numpy as np
import torch

from recsys.v1 import scoring_service_pb2 as pb
from recsys.v1 import scoring_service_pb2_grpc as pb_grpc
from services.common.errors import InvalidRequest, Unavailable
from services.common.metrics import set_model_version
from services.common.validation import require_id, require_ids
from training.artifacts import LoadedModel


class ScoringServicer(pb_grpc.ScoringServiceServicer):
    def __init__(self, max_items: int = 1000) -> None:
        self.max_items = max_items
        self._model: LoadedModel | None = None
        self._log_popularity: np.ndarray | None = None

    def load(self, model: LoadedModel) -> None:
        # One assignment swaps model and its popularity together (no request sees a mix).
        self._model, self._log_popularity = model, np.log1p(model.popularity.astype(np.float64))
        set_model_version("scoring", model.version)

    def _current(self) -> tuple[LoadedModel, np.ndarray]:
        if self._model is None or self._log_popularity is None:
            raise Unavailable("no model loaded yet; retry once the health check says SERVING")
        return self._model, self._log_popularity

    async def Score(self, request: pb.ScoreRequest, context) -> pb.ScoreResponse:
        model, log_popularity = self._current()
        require_id(request.user_id, "user_id")
        item_ids = require_ids(request.item_ids, "item_ids", self.max_items)
        if request.model_version and request.model_version != model.version:
            raise InvalidRequest(f"model_version '{request.model_version}' is not served (serving '{model.version}')")
        positions = np.array([model.item_index.get(i, -1) for i in item_ids], dtype=np.int64)
        known_items = positions >= 0
        scores = np.full(len(item_ids), math.nan, dtype=np.float32)
        user = model.user_index.get(request.user_id)
        if user is None:
            scores[known_items] = log_popularity[positions[known_items]]
        elif known_items.any():
            with torch.no_grad():
                items = torch.from_numpy(positions[known_items])
                users = torch.full_like(items, user)
                scores[known_items] = model.model.score_pairs(users, items).float().numpy()
        return pb.ScoreResponse(scores=scores.tolist(), model_version=model.version, user_known=user is not None)
