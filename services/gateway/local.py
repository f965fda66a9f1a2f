"""In-process backends for `recsys serve all`: the gateway calls the embedding, retrieval and
scoring servicers of its own process directly instead of over loopback gRPC.

Each hop otherwise costs a client-side and a server-side gRPC call (serialisation, HTTP/2 framing,
the event loop's I/O) on the same Python thread, which is most of a Recommend's CPU. The stand-in
keeps the gRPC contract the gateway relies on: the same request and response messages, the
deadline (a timeout raises DEADLINE_EXCEEDED), domain errors mapped to their status codes by the
same rules as the error interceptor, and the same per-RPC metrics and (when tracing exports) a
span per call. The backends' own gRPC ports stay open for other clients.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from opentelemetry import trace

from services.common.errors import status_for
from services.common.metrics import RPC_DURATION, RPC_TOTAL
from services.common.tracing import TRACER_NAME, tracing_enabled


class _LocalContext:
    """The little of grpc.aio.ServicerContext the backend servicers use."""

    async def abort(self, code: grpc.StatusCode, details: str) -> None:
        raise _rpc_error(code, details)


def _rpc_error(code: grpc.StatusCode, details: str) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details=details)


class LocalStub:
    """Looks like a generated ``...Stub`` whose methods are awaited with ``timeout``/``metadata``."""

    def __init__(self, servicer: Any, service: str) -> None:
        self._servicer = servicer
        self._service = service

    def __getattr__(self, method: str) -> Callable[..., Awaitable[Any]]:
        handler = getattr(self._servicer, method)
        service = self._service
        full_name = f"recsys.v1.{service}/{method}"

        async def call(request: Any, timeout: float | None = None, metadata: Any = None) -> Any:
            started = time.perf_counter()
            code = "OK"
            span = (trace.get_tracer(TRACER_NAME).start_as_current_span(
                full_name, kind=trace.SpanKind.SERVER, attributes={"rpc.system": "in-process", "rpc.method": full_name})
                if tracing_enabled() else None)
            try:
                if span is not None:
                    span.__enter__()
                try:
                    return await asyncio.wait_for(handler(request, _LocalContext()), timeout)
                except asyncio.TimeoutError:
                    code = "DEADLINE_EXCEEDED"
                    raise _rpc_error(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded") from None
                except grpc.aio.AioRpcError as error:
                    code = error.code().name
                    raise
                except Exception as error:  # noqa: BLE001 - every error becomes a status, as over gRPC
                    status = status_for(error)
                    code = status.name
                    raise _rpc_error(status, str(error)) from None
            finally:
                if span is not None:
                    span.__exit__(None, None, None)
                RPC_DURATION.labels(service, method, code).observe(time.perf_counter() - started)
                RPC_TOTAL.labels(service, method, code).inc()

        return call
