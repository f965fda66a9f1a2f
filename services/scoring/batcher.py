"""Micro-batching of NCF forward passes (see services/common/batching.py for the scheduling).

A forward pass over one request's 200 (user, item) pairs is a dozen small torch operators whose
dispatch costs more than their arithmetic; concurrent requests for the same model share one pass
over all their pairs, computed on the batcher's thread while the event loop goes on.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from models.loaded import LoadedModel
from services.common.batching import MicroBatcher

_Pairs = tuple[LoadedModel, int, np.ndarray]  # (model, user index, item indices)


class ScoreBatcher:
    def __init__(self, max_batch: int = 256) -> None:
        self._batcher: MicroBatcher[_Pairs, np.ndarray] = MicroBatcher("scoring", _score, max_batch)

    @property
    def batches(self) -> int:
        return self._batcher.batches

    @property
    def requests(self) -> int:
        return self._batcher.items

    async def score(self, model: LoadedModel, user: int, items: np.ndarray) -> np.ndarray:
        """Scores of ``user`` (an index of ``model``) for ``items`` (indices), as float32."""
        # keyed by identity (a LoadedModel is not hashable); every pending request keeps its model alive
        return await self._batcher.submit(id(model), (model, user, items))

    def close(self) -> None:
        self._batcher.close()


def _score(_: int, requests: Sequence[_Pairs]) -> list[np.ndarray]:
    model = requests[0][0]
    lengths = [len(positions) for _, _, positions in requests]
    items = np.concatenate([positions for _, _, positions in requests]).astype(np.int64, copy=False)
    users = np.repeat(np.array([user for _, user, _ in requests], dtype=np.int64), lengths)
    with torch.inference_mode():
        scores = model.model.score_pairs(torch.from_numpy(users), torch.from_numpy(items)).float().numpy()
    return np.split(scores, np.cumsum(lengths)[:-1])
