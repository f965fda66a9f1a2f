"""Bearer-token authentication of gRPC callers (tokens and policy: core/security.py).

Writes (recording interactions) need a token whenever tokens are configured; reads need one only
with ``RECSYS_AUTH_READS=token``. Health and reflection stay open, so kubelet probes and grpcurl's
listing work without a credential. A refused call is UNAUTHENTICATED, decided from the metadata
before the request body is even parsed, and counted in ``recsys_rpc_total`` like any other status.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import grpc

from core.security import Security
from services.common.handlers import rewrap_unary

WRITE_METHODS = frozenset({
    "/recsys.v1.EmbeddingService/RecordInteractions",
    "/recsys.v1.EmbeddingService/BatchRecordInteractions",
})
PROTECTED_PREFIX = "/recsys.v1."  # our own services; grpc.health.v1 and reflection are not


def metadata_value(metadata, key: str) -> str | None:
    for name, value in metadata or ():
        if name == key:
            return value if isinstance(value, str) else None
    return None


def needs_token(security: Security, method: str) -> bool:
    if method in WRITE_METHODS:
        return security.writes_need_token
    return security.reads_need_token and method.startswith(PROTECTED_PREFIX)


class AuthInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, security: Security) -> None:
        self.security = security

    async def intercept_service(
            self, continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
            handler_call_details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if not needs_token(self.security, method):
            return handler
        presented = metadata_value(handler_call_details.invocation_metadata, "authorization")
        if self.security.authorized(presented):
            return handler
        detail = ("this call needs a bearer token: send metadata 'authorization: Bearer <token>'" if presented is None
                  else "the bearer token in 'authorization' is not valid")

        def deny(_inner):
            async def refuse(_request, context: grpc.aio.ServicerContext):
                await context.abort(grpc.StatusCode.UNAUTHENTICATED, detail)
            return refuse

        return rewrap_unary(handler, deny)
