"""Interceptor plumbing shared by the error, metrics and tracing interceptors."""

from __future__ import annotations

import grpc


class UndecodableRequest:
    """What a request body that is not the method's message deserialises to. Raising instead would
    make gRPC answer UNKNOWN, log a traceback per call and bypass the interceptors (no metrics);
    this way the error interceptor answers INVALID_ARGUMENT and the call is counted."""

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
    """Interceptor plumbing: replace a unary-unary handler's behaviour with ``wrap(behaviour)``,
    keeping its serialiser and making its deserialiser tolerant; other handler kinds pass through."""
    if handler is None or handler.unary_unary is None:
        return handler
    return grpc.unary_unary_rpc_method_handler(wrap(handler.unary_unary),
                                               request_deserializer=_tolerant(handler.request_deserializer),
                                               response_serializer=handler.response_serializer)
