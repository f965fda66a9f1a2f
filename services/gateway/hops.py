"""The gateway's three hops (embedding, retrieval, scoring) behind one small interface.

`GrpcHops` calls a route's backend services over gRPC and converts their messages; `recsys serve
all` supplies another implementation (cli/local_backends.py) that calls the backends of its own
process directly. Both fail the same way: a ``grpc.aio.AioRpcError`` with the status code the
backend answered (or DEADLINE_EXCEEDED), which is what the gateway's fallbacks key on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import grpc
import numpy as np

from core.filters import ItemFilter
from core.security import Security
from core.traffic_split import Route
from recsys.v1 import embedding_service_pb2 as emb_pb
from recsys.v1 import embedding_service_pb2_grpc as emb_grpc
from recsys.v1 import retrieval_service_pb2 as ret_pb
from recsys.v1 import retrieval_service_pb2_grpc as ret_grpc
from recsys.v1 import scoring_service_pb2 as sc_pb
from recsys.v1 import scoring_service_pb2_grpc as sc_grpc
from services.common.channels import balanced_channel
from services.common.convert import filters_message
from services.common.tracing import outgoing_metadata


@dataclass(frozen=True)
class UserState:
    vector: np.ndarray  # empty for a cold user
    seen_item_ids: Sequence[str]


@dataclass(frozen=True)
class Candidates:
    item_ids: Sequence[str]  # best first
    scores: Sequence[float] | np.ndarray
    model_version: str
    popularity_fallback: bool
    # in-process only: the items' positions in retrieval's item id list (item_space), which local
    # scoring takes as they are instead of matching ids per request
    positions: np.ndarray | None = None
    item_space: Sequence[str] | None = None

    def __len__(self) -> int:
        return len(self.item_ids)


@dataclass(frozen=True)
class Scores:
    scores: np.ndarray  # aligned with the candidates; NaN where the scorer does not know the item
    user_known: bool


class Hops(Protocol):
    async def user(self, user_id: str, timeout: float) -> UserState: ...

    async def retrieve(self, user_id: str, vector: np.ndarray, num_candidates: int, exclude_item_ids: Sequence[str],
                       item_filter: ItemFilter, timeout: float) -> Candidates: ...

    async def score(self, user_id: str, candidates: Candidates, timeout: float) -> Scores: ...

    async def close(self) -> None: ...


class GrpcHops:
    """A route's three backends over gRPC; channels open on first use, inside the event loop."""

    def __init__(self, route: Route, security: Security = Security()) -> None:
        self.route = route
        self.security = security
        # this gateway's own token, presented to backends that protect reads
        self._auth = [("authorization", security.authorization())] if security.tokens else []
        self._channels: list[grpc.aio.Channel] = []
        self._embedding: emb_grpc.EmbeddingServiceStub | None = None
        self._retrieval: ret_grpc.RetrievalServiceStub | None = None
        self._scoring: sc_grpc.ScoringServiceStub | None = None

    def _open(self) -> None:
        if self._embedding is None:
            self._channels = [balanced_channel(address, self.security) for address in
                              (self.route.embedding, self.route.retrieval, self.route.scoring)]
            self._embedding = emb_grpc.EmbeddingServiceStub(self._channels[0])
            self._retrieval = ret_grpc.RetrievalServiceStub(self._channels[1])
            self._scoring = sc_grpc.ScoringServiceStub(self._channels[2])

    def _metadata(self) -> list[tuple[str, str]] | None:
        trace = outgoing_metadata()
        if not self._auth:
            return trace
        return self._auth if trace is None else trace + self._auth

    async def user(self, user_id: str, timeout: float) -> UserState:
        self._open()
        answer = await self._embedding.GetUserEmbedding(emb_pb.GetUserEmbeddingRequest(user_id=user_id),
                                                        timeout=timeout, metadata=self._metadata())
        return UserState(np.asarray(answer.vector, dtype=np.float32), list(answer.seen_item_ids))

    async def retrieve(self, user_id: str, vector: np.ndarray, num_candidates: int, exclude_item_ids: Sequence[str],
                       item_filter: ItemFilter, timeout: float) -> Candidates:
        self._open()
        answer = await self._retrieval.Retrieve(ret_pb.RetrieveRequest(
            user_vector=vector.tolist(), num_candidates=num_candidates, exclude_item_ids=exclude_item_ids,
            filters=filters_message(item_filter), user_id=user_id), timeout=timeout, metadata=self._metadata())
        return Candidates([c.item_id for c in answer.candidates], [c.score for c in answer.candidates],
                          answer.model_version, answer.popularity_fallback)

    async def score(self, user_id: str, candidates: Candidates, timeout: float) -> Scores:
        self._open()
        answer = await self._scoring.Score(sc_pb.ScoreRequest(user_id=user_id, item_ids=candidates.item_ids),
                                           timeout=timeout, metadata=self._metadata())
        return Scores(np.asarray(answer.scores, dtype=np.float64), answer.user_known)

    async def close(self) -> None:
        for channel in self._channels:
            await channel.close()
