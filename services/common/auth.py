"""Bearer-token authentication of gRPC callers (tokens and policy: core/security.py).

Writes (recording interactions) need a token whenever tokens are configured; reads need one only
with ``RECSYS_AUTH_READS=token``. Health and reflection stay open, so kubelet probes and grpcurl's
listing work without a credential. A refused call is UNAUTHENTICATED, decided from the metadata
before the servicer runs (services/common/pipeline.py), and counted in ``recsys_rpc_total`` like any
other status.
"""

from __future__ import annotations

from core.security import Security

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


def refusal(security: Security, authorization: str | None) -> str | None:
    """Why a call that needs a token is refused (None: the ``authorization`` value carries a valid one)."""
    if security.authorized(authorization):
        return None
    if authorization is None:
        return "this call needs a bearer token: send metadata 'authorization: Bearer <token>'"
    return "the bearer token in 'authorization' is not valid"
