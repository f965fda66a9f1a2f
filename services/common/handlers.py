"""Method-handler plumbing for the call pipeline (services/common/pipeline.py)."""

from __future__ import annotations

from collections.abc import Callable

import grpc


class UndecodableRequest:
    """What a request body that is not the method's message deserialises to. Raising instead would
    make gRPC answer UNKNOWN, log a traceback per call and bypass the call pipeline (no metrics);
    this way the pipeline answers INVALID_ARGUMENT and the call is counted."""

    def __init__(self, error: Exception) -> None:
        self.error = error


def _tolerant(deserializer):
    if deserializer is None or getattr(deserializer, "tolerant", False):
        return deserializer

    def deserialize(data: bytes):
        try:
            return deserializer(data)
        except Exception as error:  # noqa: BLE001 - any decoding failure is the caller's bad bytes
            return UndecodableRequest(error)

    deserialize.tolerant = True
    return deserialize


def rewrap_unary(handler: grpc.RpcMethodHandler | None, wrap) -> grpc.RpcMethodHandler | None:
    """Replace a unary-unary handler's behaviour with ``wrap(behaviour)``,
    keeping its serialiser and making its deserialiser tolerant; other handler kinds pass through."""
    if handler is None or handler.unary_unary is None:
        return handler
    return grpc.unary_unary_rpc_method_handler(wrap(handler.unary_unary),
                                               request_deserializer=_tolerant(handler.request_deserializer),
                                               response_serializer=handler.response_serializer)


class WrappedHandlers:
    """Wrapped handlers kept per method, for a generic handler asked for its handler on every call:
    a wrapper that depends only on the method and the handler it wraps is built the first time and
    reused while the inner handler stays the same object. Unknown methods (handler None) are never
    kept, so callers cannot grow the cache with made-up paths."""

    def __init__(self) -> None:
        self._by_method: dict[str, tuple[grpc.RpcMethodHandler, grpc.RpcMethodHandler | None]] = {}

    def get(self, method: str, handler: grpc.RpcMethodHandler | None,
            wrap: Callable[[grpc.RpcMethodHandler], grpc.RpcMethodHandler]) -> grpc.RpcMethodHandler | None:
        """``wrap(handler)``, built once per method and inner handler."""
        if handler is None:
            return None
        kept = self._by_method.get(method)
        if kept is not None and kept[0] is handler:
            return kept[1]
        wrapped = wrap(handler)
        self._by_method[method] = (handler, wrapped)
        return wrapped
