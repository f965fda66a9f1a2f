"""Candidate retrieval: the loaded item index, request checks, micro-batched search and the
popularity fallback for users without a vector. Transport-free: the gRPC servicer and `serve all`'s
in-process gateway both call it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.errors import InvalidRequest, Unavailable
from core.filters import ItemFilter
from core.ids import MAX_ID_LENGTH, require_id
from core.item_ids import ItemsAt
from services.common.metrics import CANDIDATES, RETRIEVAL_ANSWERS, labelled, set_model_version
from services.retrieval.batcher import SearchBatcher
from services.retrieval.index import Hits, ItemIndex


@dataclass(frozen=True)
class Retrieved:
    index: ItemIndex  # the index the hits point into (item ids: index.item_ids[hits.indices])
    hits: Hits
    model_version: str
    popularity_fallback: bool


class Retriever:
    """Candidate retrieval over whatever index was last loaded; ``load`` swaps it in one assignment, so a request
    sees either the old or the new model, never a mix."""

    def __init__(self, max_candidates: int = 1000) -> None:
        self.max_candidates = max_candidates
        self._loaded: tuple[ItemIndex, str] | None = None
        self.batcher = SearchBatcher()

    def load(self, index: ItemIndex, model_version: str) -> None:
        self._loaded = (index, model_version)
        set_model_version("retrieval", model_version)

    @property
    def index(self) -> ItemIndex:
        return self._current()[0]

    @property
    def model_version(self) -> str:
        return self._current()[1]

    def _current(self) -> tuple[ItemIndex, str]:
        if self._loaded is None:
            raise Unavailable("no model loaded yet; retry once the health check says SERVING")
        return self._loaded

    def _check(self, vector: np.ndarray, num_candidates: int, exclude_item_ids: Sequence[str], model_version: str,
               index: ItemIndex, served_version: str) -> None:
        if not 0 < num_candidates <= self.max_candidates:
            raise InvalidRequest(f"num_candidates must be in 1..{self.max_candidates}, got {num_candidates}")
        if len(vector) and len(vector) != index.dim:
            raise InvalidRequest(f"user_vector has {len(vector)} dimensions, the model {index.dim}")
        if not np.all(np.isfinite(vector)):
            raise InvalidRequest("user_vector holds NaN or infinite values")
        if model_version and model_version != served_version:
            raise InvalidRequest(f"model_version '{model_version}' is not served (serving '{served_version}')")
        # positions in a model's own id list (in process) name no id a caller could have mistyped
        if not isinstance(exclude_item_ids, ItemsAt) and any(len(i) > MAX_ID_LENGTH for i in exclude_item_ids):
            raise InvalidRequest(f"exclude_item_ids entries must be at most {MAX_ID_LENGTH} characters")

    async def retrieve(self, vector: np.ndarray, num_candidates: int, exclude_item_ids: Sequence[str],
                       item_filter: ItemFilter, model_version: str = "", user_id: str = "") -> Retrieved:
        """Top ``num_candidates`` items for ``vector`` (empty: a cold user, popularity), without the
        excluded items and honouring the filter. ``user_id`` (optional): whose vector it is, so that
        candidates precomputed at training time can answer when the vector is still the trained one."""
        index, version = self._current()
        vector = np.asarray(vector, dtype=np.float32)
        self._check(vector, num_candidates, exclude_item_ids, model_version, index, version)
        if user_id:
            require_id(user_id, "user_id")
        exclude = index.indices_of(exclude_item_ids)
        fallback = False
        if not len(vector):
            hits, fallback, answered_by = index.most_popular(num_candidates, exclude, item_filter), True, "popularity"
        elif (precomputed := index.precomputed) is not None and user_id and (hits := precomputed.hits(
                user_id, vector, num_candidates, exclude, index.attributes.mask(item_filter))) is not None:
            answered_by = "precomputed"
        else:
            hits, answered_by = await self.batcher.search(index, vector, num_candidates, exclude, item_filter), "scan"
        labelled(RETRIEVAL_ANSWERS, answered_by).inc()
        CANDIDATES.observe(len(hits.indices))
        return Retrieved(index, hits, version, fallback)
