"""In-process backends for `recsys serve all`: the gateway calls the embedding, retrieval and
scoring domain objects of its own process directly instead of over loopback gRPC.

Each hop otherwise costs a client-side and a server-side gRPC call (serialisation, HTTP/2 framing,
the event loop's I/O) on the same Python thread, which is most of a Recommend's CPU; building and
reading 200 candidate messages alone was a tenth of it. `LocalHops` hands arrays over instead
and keeps the contract the gateway relies on: the deadline (a timeout raises DEADLINE_EXCEEDED),
domain errors mapped to their status codes by the same rules as the call pipeline, and the
same per-RPC metrics and (when tracing exports) a span per hop. The backends' own gRPC ports stay
open for other clients.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import grpc
import numpy as np
from opentelemetry import trace

from core.filters import ItemFilter
from core.item_ids import ItemsAt
from services.common.errors import client_message, status_for
from services.common.metrics import RPC_DURATION, RPC_TOTAL, labelled
from services.common.tracing import TRACER_NAME, tracing_enabled
from services.embedding.users import UserEmbeddings
from services.gateway.hops import Candidates, Scores, UserState
from services.retrieval.retriever import Retriever
from services.scoring.scorer import Scorer

Result = TypeVar("Result")


def _rpc_error(code: grpc.StatusCode, details: str) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details=details)


async def local_call(service: str, method: str, call: Callable[[], Awaitable[Result]], timeout: float | None) -> Result:
    """Run ``call()`` as if it were the gRPC method ``service/method``: deadline, status codes,
    per-RPC metrics and a SERVER span when tracing exports."""
    started = time.perf_counter()
    code = "OK"
    full_name = f"recsys.v1.{service}/{method}"
    span = (trace.get_tracer(TRACER_NAME).start_as_current_span(
        full_name, kind=trace.SpanKind.SERVER, attributes={"rpc.system": "in-process", "rpc.method": full_name})
        if tracing_enabled() else None)
    try:
        if span is not None:
            span.__enter__()
        try:
            async with asyncio.timeout(timeout):  # in this task: no task per hop, unlike wait_for
                return await call()
        except TimeoutError:
            code = "DEADLINE_EXCEEDED"
            raise _rpc_error(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded") from None
        except grpc.aio.AioRpcError as error:
            code = error.code().name
            raise
        except Exception as error:  # noqa: BLE001 - every error becomes a status, as over gRPC
            status = status_for(error)
            code = status.name
            raise _rpc_error(status, client_message(error, status)) from None
    finally:
        if span is not None:
            span.__exit__(None, None, None)
        labelled(RPC_DURATION, service, method, code).observe(time.perf_counter() - started)
        labelled(RPC_TOTAL, service, method, code).inc()


class LocalHops:
    """The gateway's hops answered by the backends of its own process, without messages: vectors
    and candidate positions are handed over as arrays (the same domain objects the servicers call,
    so validation, batching and errors are the same as over gRPC)."""

    def __init__(self, embedding: UserEmbeddings, retrieval: Retriever, scoring: Scorer) -> None:
        self._embedding = embedding
        self._retrieval = retrieval
        self._scoring = scoring

    async def user(self, user_id: str, timeout: float) -> UserState:
        async def call() -> UserState:
            model, user = self._embedding.user_state(user_id)
            vector = _EMPTY if user.vector is None else user.vector
            return UserState(vector, ItemsAt(model.item_ids, user.seen))
        return await local_call("EmbeddingService", "GetUserEmbedding", call, timeout)

    async def retrieve(self, user_id: str, vector: np.ndarray, num_candidates: int, exclude_item_ids: Sequence[str],
                       item_filter: ItemFilter, timeout: float) -> Candidates:
        async def call() -> Candidates:
            retrieved = await self._retrieval.retrieve(vector, num_candidates, exclude_item_ids, item_filter,
                                                       user_id=user_id)
            positions, item_ids = retrieved.hits.indices, retrieved.index.item_ids
            return Candidates(ItemsAt(item_ids, positions), retrieved.hits.scores, retrieved.model_version,
                              retrieved.popularity_fallback, positions, item_ids)
        return await local_call("RetrievalService", "Retrieve", call, timeout)

    async def score(self, user_id: str, candidates: Candidates, timeout: float) -> Scores:
        async def call() -> Scores:
            if candidates.positions is not None and candidates.item_space is not None:
                scored = await self._scoring.score_candidates(user_id, candidates.item_space, candidates.positions)
            else:  # the gateway's own popularity list: ids only
                scored = await self._scoring.score_ids(user_id, candidates.item_ids)
            return Scores(scored.scores, scored.user_known)
        return await local_call("ScoringService", "Score", call, timeout)

    async def close(self) -> None:
        pass


_EMPTY = np.zeros(0, dtype=np.float32)
