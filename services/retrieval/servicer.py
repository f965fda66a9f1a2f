"""RetrievalService: translates protobuf to :class:`Retriever` calls and back, nothing else."""

from __future__ import annotations

import asyncio

import numpy as np

from core.errors import InvalidRequest
from recsys.v1 import retrieval_service_pb2 as pb
from recsys.v1 import retrieval_service_pb2_grpc as pb_grpc
from services.common.convert import item_filter_of
from services.retrieval.retriever import Retriever


class RetrievalServicer(pb_grpc.RetrievalServiceServicer):
    def __init__(self, retriever: Retriever, max_batch: int = 256) -> None:
        self.retriever = retriever
        self.max_batch = max_batch

    async def _answer(self, request: pb.RetrieveRequest) -> pb.RetrieveResponse:
        retrieved = await self.retriever.retrieve(
            np.asarray(request.user_vector, dtype=np.float32), request.num_candidates,
            [*request.exclude_item_ids, *request.filters.exclude_item_ids], item_filter_of(request.filters),
            request.model_version, request.user_id)
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
