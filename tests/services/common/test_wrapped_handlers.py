"""Handler wrappers kept per method: reused while the inner handler is the same object, rebuilt
when it changes, and never kept for unknown methods."""

from __future__ import annotations

import grpc

from services.common.handlers import WrappedHandlers


def _handler() -> grpc.RpcMethodHandler:
    async def behaviour(request, context):
        return request
    return grpc.unary_unary_rpc_method_handler(behaviour, request_deserializer=bytes, response_serializer=bytes)


def test_the_same_inner_handler_gets_the_same_wrapper():
    built = []

    def wrap(inner: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        built.append(inner)
        return inner._replace(unary_unary=inner.unary_unary)  # a new handler, as the pipeline makes

    kept, handler = WrappedHandlers(), _handler()
    first = kept.get("/recsys.v1.RetrievalService/Retrieve", handler, wrap)
    assert kept.get("/recsys.v1.RetrievalService/Retrieve", handler, wrap) is first
    assert len(built) == 1
    replacement = _handler()  # e.g. the service was registered again
    assert kept.get("/recsys.v1.RetrievalService/Retrieve", replacement, wrap) is not first
    assert len(built) == 2
    assert kept.get("/recsys.v1.ScoringService/Score", handler, wrap) is not first  # per method


def test_unknown_methods_are_not_kept():
    kept = WrappedHandlers()
    for i in range(100):
        assert kept.get(f"/made.up/Path{i}", None, lambda inner: inner) is None
    assert kept._by_method == {}
