"""Interceptor plumbing shared by the error, metrics and tracing interceptors."""

from __future__ import annotations

import grpc


def rewrap_unary(handler: grpc.RpcMethodHandler | None, wrap) -> grpc.RpcMethodHandler | None:
    """Interceptor plumbing: replace a unary-unary handler's behaviour with ``wrap(behaviour)``,
    keeping its (de)serialisers; other handler kinds pass through."""
    if handler is None or handler.unary_unary is None:
        return handler
    return grpc.unary_unary_rpc_method_handler(wrap(handler.unary_unary),
                                               request_deserializer=handler.request_deserializer,
                                               response_serializer=handler.response_serializer)
