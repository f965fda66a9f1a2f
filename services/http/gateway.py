"""How the HTTP API reaches the gateway's logic: one interface, two transports.

- :class:`GrpcGateway`: over grpc.aio to a gateway Service (`recsys serve http` on its own, or as a
  container beside the gateway in its pod). The gRPC server's call pipeline (validation, error
  mapping, metrics, traces) applies to every call, exactly as for gRPC clients.
- :class:`InProcessGateway`: the gateway servicer in the same process (`recsys serve all`): the
  same methods called directly, domain errors mapped with the same function the gRPC call
  pipeline uses. No loopback hop, no second serialisation.

Both take and return the protos, and raise :class:`GatewayError` carrying a gRPC status code,
which the API turns into an HTTP status and a problem body.
"""

from __future__ import annotations

import logging
from typing import Protocol

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from core.errors import Unavailable
from core.security import Security
from recsys.v1 import recommendation_service_pb2 as pb
from recsys.v1 import recommendation_service_pb2_grpc as pb_grpc
from services.common.channels import balanced_channel
from services.common.errors import client_message, status_for
from services.common.tracing import outgoing_metadata

log = logging.getLogger(__name__)
SERVICE = pb.DESCRIPTOR.services_by_name["RecommendationService"].full_name


class GatewayError(Exception):
    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Gateway(Protocol):
    async def call(self, method: str, request: object, timeout_s: float, authorization: str | None = None) -> object:
        """``method`` of RecommendationService (e.g. "Recommend") with its request proto, on behalf of
        a caller who presented ``authorization`` (their Authorization header, if any)."""

    async def ready(self) -> bool:
        """Whether the gateway answers (its health check says SERVING)."""

    async def close(self) -> None: ...


class GrpcGateway:
    def __init__(self, target: str, security: Security = Security()) -> None:
        # a gateway on this host (the chart's: beside this process in its pod) drains together with
        # it; its NOT_SERVING must not turn away the requests this process is still finishing
        self._channel = balanced_channel(target, security, watch_health=not on_this_host(target))
        self._stub = pb_grpc.RecommendationServiceStub(self._channel)
        self._health = health_pb2_grpc.HealthStub(self._channel)

    async def call(self, method: str, request: object, timeout_s: float, authorization: str | None = None) -> object:
        metadata = outgoing_metadata()
        if authorization is not None:
            metadata = (metadata or []) + [("authorization", authorization)]
        try:
            return await getattr(self._stub, method)(request, timeout=timeout_s, metadata=metadata)
        except grpc.aio.AioRpcError as error:
            raise GatewayError(error.code(), error.details() or error.code().name) from None

    async def ready(self) -> bool:
        try:
            answer = await self._health.Check(health_pb2.HealthCheckRequest(service=SERVICE), timeout=2)
        except grpc.aio.AioRpcError:
            return False
        return answer.status == health_pb2.HealthCheckResponse.SERVING

    async def close(self) -> None:
        await self._channel.close()


class _Context:
    """What the servicer methods use of a gRPC context when called in-process."""

    def __init__(self, authorization: str | None = None) -> None:
        self._metadata = (("authorization", authorization),) if authorization is not None else ()

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return self._metadata

    async def abort(self, code: grpc.StatusCode, details: str = "") -> None:
        raise GatewayError(code, details)


class InProcessGateway:
    def __init__(self, servicer: pb_grpc.RecommendationServiceServicer) -> None:
        self.servicer = servicer

    async def call(self, method: str, request: object, timeout_s: float, authorization: str | None = None) -> object:
        try:
            return await getattr(self.servicer, method)(request, _Context(authorization))
        except GatewayError:
            raise
        except Exception as error:
            code = status_for(error)
            if code == grpc.StatusCode.INTERNAL:
                log.exception("unexpected error in %s", method)
            raise GatewayError(code, client_message(error, code)) from None

    async def ready(self) -> bool:
        try:
            await self.servicer.GetSystemInfo(pb.GetSystemInfoRequest(), _Context())
        except Unavailable:  # no catalogue loaded yet
            return False
        return True

    async def close(self) -> None:
        return None


def on_this_host(target: str) -> bool:
    """Whether ``target`` (host:port) names this host: localhost or a loopback address."""
    host = target.rsplit(":", 1)[0].strip("[]")
    return host == "localhost" or host.startswith("127.") or host == "::1"
