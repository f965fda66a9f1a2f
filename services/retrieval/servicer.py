"""RetrievalService: translates protobuf to :class:`ItemIndex` calls and back, nothing else."""

from __future__ import annotations

import asyncio

import numpy as np

from recsys.v1 import retrieval_service_pb2 as pb
from recsys.v1 import retrieval_service_pb2_grpc as pb_grpc
from services.common.errors import InvalidRequest, Unavailable
from services.common.metrics import CANDIDATES, set_model_version
from services.common.validation import MAX_ID_LENGTH
from services.retrieval.batcher import SearchBatcher
from services.retrieval.index import ItemFilter, ItemIndex


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

    def _check(self, request: pb.RetrieveRequest, index: ItemIndex, model_version: str) -> None:
        if not 0 < request.num_candidates <= self.max_candidates:
            raise InvalidRequest(f"num_candidates must be in 1..{self.max_candidates}, got {request.num_candidates}")
        if request.user_vector and len(request.user_vector) != index.dim:
            raise InvalidRequest(f"user_vector has {len(request.user_vector)} dimensions, the model {index.dim}")
        if not np.all(np.isfinite(np.asarray(request.user_vector, dtype=np.float64))):
            raise InvalidRequest("user_vector holds NaN or infinite values")
        if request.model_version and request.model_version != model_version:
            raise InvalidRequest(f"model_version '{request.model_version}' is not served "
                                 f"(serving '{model_version}')")
        if any(len(i) > MAX_ID_LENGTH for i in [*request.exclude_item_ids, *request.filters.exclude_item_ids]):
            raise InvalidRequest(f"exclude_item_ids entries must be at most {MAX_ID_LENGTH} characters")

    async def _answer(self, request: pb.RetrieveRequest) -> pb.RetrieveResponse:
        index, version = self._current()
        self._check(request, index, version)
        item_filter = _filter(request)
        item_filter.validate()  # before batching, so a bad filter fails only its own request
        exclude = index.indices_of([*request.exclude_item_ids, *request.filters.exclude_item_ids])
        if request.user_vector:
            vector = np.asarray(request.user_vector, dtype=np.float32)
            hits = await self.batcher.search(index, vector, request.num_candidates, exclude, item_filter)
            fallback = False
        else:
            hits, fallback = index.most_popular(request.num_candidates, exclude, item_filter), True
        candidates = [pb.Candidate(item_id=index.item_ids[i], score=float(s))
                      for i, s in zip(hits.indices.tolist(), hits.scores.tolist())]
        CANDIDATES.observe(len(candidates))
        return pb.RetrieveResponse(candidates=candidates, model_version=version, popularity_fallback=fallback)

    async def Retrieve(self, request: pb.RetrieveRequest, context) -> pb.RetrieveResponse:
        return await self._answer(request)

    async def BatchRetrieve(self, request: pb.BatchRetrieveRequest, context) -> pb.BatchRetrieveResponse:
        if not 0 < len(request.requests) <= self.max_batch:
            raise InvalidRequest(f"a batch holds 1..{self.max_batch} requests, got {len(request.requests)}")
        return pb.BatchRetrieveResponse(responses=list(await asyncio.gather(*(self._answer(r)
                                                                               for r in request.requests))))


def _filter(request: pb.RetrieveRequest) -> ItemFilter:
    f = request.filters
    return ItemFilter(categories=tuple(f.categories), brands=tuple(f.brands),
                      min_price=f.min_price if f.HasField("min_price") else None,
                      max_price=f.max_price if f.HasField("max_price") else None)
