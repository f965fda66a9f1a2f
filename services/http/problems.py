"""Errors as RFC 9457 problem details (``application/problem+json``), with the gRPC status code the
gateway answered, so HTTP and gRPC clients read the same outcome."""

from __future__ import annotations

from http import HTTPStatus

import grpc
from fastapi.responses import JSONResponse

# google.rpc's mapping of status codes to HTTP (as in grpc-gateway and Google's APIs)
HTTP_STATUS = {
    grpc.StatusCode.OK: 200,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DATA_LOSS: 500,
    grpc.StatusCode.UNAUTHENTICATED: 401,
}
MEDIA_TYPE = "application/problem+json"
# what /docs shows for every error response
PROBLEM_SCHEMA = {
    "type": "object",
    "properties": {
        "type": {"type": "string", "description": "about:blank (the status says it all)"},
        "title": {"type": "string", "description": "the HTTP status phrase"},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "what was wrong, for people"},
        "instance": {"type": "string", "description": "the request path"},
        "grpcStatus": {"type": "string", "description": "the gateway's gRPC status code, when it answered"},
        "reason": {"type": "string", "description": "POST /events: the codec's short reason code"},
    },
}


def problem(status: int, detail: str, instance: str, **extra: str) -> JSONResponse:
    title = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Client Closed Request"
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, "instance": instance, **extra}
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE)


def grpc_problem(code: grpc.StatusCode, detail: str, instance: str) -> JSONResponse:
    return problem(HTTP_STATUS.get(code, 500), detail, instance, grpcStatus=code.name)
