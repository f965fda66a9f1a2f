"""RetrievalService: translates protobuf to :class:`ItemIndex` calls and back, nothing else."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from recsys.v1 import common_pb2
from recsys.v1 import retrieval_service_pb2 as pb
from recsys.v1 import retrieval_service_pb2_grpc as pb_grpc
from services.common.errors import InvalidRequest, Unavailable
from services.common.metrics import CANDIDATES, set_model_version
from services.common.validation import MAX_ID_LENGTH
from services.retrieval.batcher import SearchBatcher
from services.retrieval.index import Hits, ItemFilter, ItemIndex


@dataclass(frozen=True)
class Retrieved:
    index: ItemIndex  # the index the hits point into (item ids: index.item_ids[hits.indices])
    hits: Hits
    model_version: str
    popularity_fallback: bool


class RetrievalServicer(pb_grpc.RetrievalServiceServicer):
    """Serves whatever index was last loaded; ``load`` swaps it in one assignment, so a request
    sees either the old or the new model, never a mix."""

    def __init__(self, max_candidates: int = 1000, max_batch: int = 256) -> None:
        self.max_candidates = max_candidates
        self.max_batch = max_batch
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
        if any(len(i) > MAX_ID_LENGTH for i in exclude_item_ids):
            raise InvalidRequest(f"exclude_item_ids entries must be at most {MAX_ID_LENGTH} characters")

    async def retrieve(self, vector: np.ndarray, num_candidates: int, exclude_item_ids: Sequence[str],
                       item_filter: ItemFilter, model_version: str = "") -> Retrieved:
        """Top ``num_candidates`` items for ``vector`` (empty: a cold user, popularity), without the
        excluded items and honouring the filter; what Retrieve serves, and what `serve all`'s
        gateway calls directly."""
        index, version = self._current()
        vector = np.asarray(vector, dtype=np.float32)
        self._check(vector, num_candidates, exclude_item_ids, model_version, index, version)
        item_filter.validate()  # before batching, so a bad filter fails only its own request
        exclude = index.indices_of(exclude_item_ids)
        if len(vector):
            hits = await self.batcher.search(index, vector, num_candidates, exclude, item_filter)
            fallback = False
        else:
            hits, fallback = index.most_popular(num_candidates, exclude, item_filter), True
        CANDIDATES.observe(len(hits.indices))
        return Retrieved(index, hits, version, fallback)

    async def _answer(self, request: pb.RetrieveRequest) -> pb.RetrieveResponse:
        retrieved = await self.retrieve(np.asarray(request.user_vector, dtype=np.float32), request.num_candidates,
                                        [*request.exclude_item_ids, *request.filters.exclude_item_ids],
                                        item_filter_of(request.filters), request.model_version)
        item_ids = retrieved.index.item_ids
        candidates = [pb.Candidate(item_id=item_ids[i], score=s)
                      for i, s in zip(retrieved.hits.indices.tolist(), retrieved.hits.scores.tolist())]
        return pb.RetrieveResponse(candidates=candidates, model_version=retrieved.model_version,
                                   popularity_fallback=retrieved.popularity_fallback)

    async def Retrieve(self, request: pb.RetrieveRequest, context) -> pb.RetrieveResponse:
        return await self._answer(request)

    async def BatchRetrieve(self, request: pb.BatchRetrieveRequest, context) -> pb.BatchRetrieveResponse:
        if not 0 < len(request.requests) <= self.max_batch:
            raise InvalidRequest(f"a batch holds 1..{self.max_batch} requests, got {len(request.requests)}")
        return pb.BatchRetrieveResponse(responses=list(await asyncio.gather(*(self._answer(r)
                                                                               for r in request.requests))))


def item_filter_of(filters: common_pb2.Filters) -> ItemFilter:
    """The catalogue filter a request's Filters message asks for (exclude_item_ids aside)."""
    return ItemFilter(categories=tuple(filters.categories), brands=tuple(filters.brands),
                      min_price=filters.min_price if filters.HasField("min_price") else None,
                      max_price=filters.max_price if filters.HasField("max_price") else None)
