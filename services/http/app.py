"""The HTTP/JSON API (FastAPI) and the web interface's static files.

Bodies are the protos in protobuf's JSON mapping (lowerCamelCase names, enum names, RFC 3339
times; requests accept the proto field names too), so gRPC and HTTP clients see one schema, and
/docs shows the schemas generated from the same descriptors. Every call goes to the gateway's own
logic (services/http/gateway.py); its gRPC status becomes the HTTP status of an RFC 9457 problem
body. Bodies that are not JSON answer 400; JSON that does not fit the message (unknown field,
wrong type) 422; what the gateway refuses, its own code (INVALID_ARGUMENT: 400, NOT_FOUND: 404,
UNAVAILABLE: 503, UNIMPLEMENTED: 501, ...). With tokens configured (core/security.py), POST /events
(and with RECSYS_AUTH_READS=token every API read) needs ``Authorization: Bearer <token>``, else 401;
the caller's header goes on to the gateway with each call, never this server's own credential.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from google.protobuf import json_format
from google.protobuf.message import Message
from prometheus_client import Counter, Histogram
from starlette.exceptions import HTTPException as StarletteHTTPException

from core import __version__
from core.security import Security
from events.codec import InvalidEvent
from recsys.v1 import events_pb2
from recsys.v1 import recommendation_service_pb2 as pb
from services.common.metrics import LATENCY_BUCKETS
from services.common.tracing import server_span
from services.http.events import EventSink, checked_event, complete
from services.http.fast_json import recommend_response
from services.http.gateway import Gateway, GatewayError
from services.http.problems import MEDIA_TYPE, PROBLEM_SCHEMA, grpc_problem, problem
from services.http.schema import add_schema

STATIC = Path(__file__).parent / "static"
MAX_BODY_BYTES = 64 * 1024
HTTP_REQUESTS = Counter("recsys_http_requests", "HTTP requests answered", ["method", "route", "status"])
HTTP_DURATION = Histogram("recsys_http_request_duration_seconds", "HTTP request latency", ["method", "route"],
                          buckets=LATENCY_BUCKETS)


class ApiProblem(Exception):
    def __init__(self, status: int, detail: str, **extra: str) -> None:
        super().__init__(detail)
        self.status, self.detail, self.extra = status, detail, extra


def to_json(message: Message) -> dict:
    return json_format.MessageToDict(message, always_print_fields_with_no_presence=True)


def answer(message: Message, status: int = 200) -> JSONResponse:
    """The message as the response (returned as a response, FastAPI does not re-encode the dict)."""
    return JSONResponse(to_json(message), status_code=status)


async def parse_body(request: Request, message: Message) -> Message:
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise ApiProblem(413, f"the body is {len(raw)} bytes; the limit is {MAX_BODY_BYTES}")
    try:
        body = json.loads(raw or b"{}")
    except ValueError as error:
        raise ApiProblem(400, f"the body is not JSON: {error}") from None
    if not isinstance(body, dict):
        raise ApiProblem(422, f"the body must be a JSON object ({message.DESCRIPTOR.name}), not {type(body).__name__}")
    if isinstance(message, events_pb2.UserEvent):
        body = complete(body)
    try:
        json_format.ParseDict(body, message)
    except json_format.ParseError as error:
        raise ApiProblem(422, f"the body does not fit {message.DESCRIPTOR.name}: {error}") from None
    return message


def _schema_of(message) -> dict:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{message.DESCRIPTOR.name}"}}}


def _body(message) -> dict:
    return {"requestBody": {"required": True, "content": _schema_of(message)}}


def _answers(message, status: int = 200, errors: tuple[int, ...] = (400, 422, 503)) -> dict:
    responses: dict = {status: {"description": "OK" if status == 200 else "Accepted", "content": _schema_of(message)}}
    for code in errors:
        responses[code] = {"description": "a problem (RFC 9457)",
                           "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
    return responses


def create_app(gateway: Gateway, events: EventSink | None = None, timeout_s: float = 2.0,
               security: Security = Security()) -> FastAPI:
    app = FastAPI(title="recsys", version=__version__,
                  description="Personalised product recommendations (NeuMF + LightGCN). The bodies are the "
                              "protos of recsys.v1 in protobuf's JSON mapping; errors are RFC 9457 problems.")
    app.state.draining = False  # set by services/http/server.py on SIGTERM

    def authorization(request: Request, write: bool) -> str | None:
        """The caller's Authorization header, checked where this kind of call needs a token."""
        presented = request.headers.get("authorization")
        if (security.writes_need_token if write else security.reads_need_token) \
                and not security.authorized(presented):
            raise ApiProblem(401, "this request needs 'Authorization: Bearer <token>'" if presented is None
                             else "the bearer token in 'Authorization' is not valid")
        return presented

    async def call(request: Request, method: str, message: Message) -> Message:
        return await gateway.call(method, message, timeout_s, authorization(request, write=False))

    @app.exception_handler(GatewayError)
    async def _gateway_error(request: Request, error: GatewayError) -> JSONResponse:
        return grpc_problem(error.code, error.message, request.url.path)

    @app.exception_handler(ApiProblem)
    async def _api_problem(request: Request, error: ApiProblem) -> JSONResponse:
        response = problem(error.status, error.detail, request.url.path, **error.extra)
        if error.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="recsys"'
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        detail = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors())
        return problem(422, detail, request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        detail = f"no such resource: {request.url.path}" if error.status_code == 404 else str(error.detail)
        return problem(error.status_code, detail, request.url.path)

    @app.get("/health", tags=["operations"], summary="Liveness: the process answers")
    async def health() -> dict:
        return {"status": "ok"}

    @app.get("/ready", tags=["operations"], summary="Readiness: the gateway answers (503 until it does)",
             responses={503: {"description": "a problem (RFC 9457)",
                              "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}})
    async def ready(request: Request):
        if app.state.draining:
            return problem(503, "this server is shutting down", request.url.path)
        if not await gateway.ready():
            return problem(503, "the gateway is not serving yet (models loading, or unreachable)", request.url.path)
        return {"status": "ready"}

    @app.get("/system-info", tags=["operations"], summary="Version and catalogue size",
             responses=_answers(pb.GetSystemInfoResponse, errors=(503,)))
    async def system_info(request: Request):
        return answer(await call(request, "GetSystemInfo", pb.GetSystemInfoRequest()))

    @app.get("/models", tags=["models"], summary="The model registry: versions, stages, metrics, traffic",
             responses=_answers(pb.ListModelsResponse, errors=(503,)))
    async def models(request: Request, include_archived: bool = Query(False, alias="includeArchived")):
        return answer(await call(request, "ListModels", pb.ListModelsRequest(include_archived=include_archived)))

    @app.post("/recommendations", tags=["recommendations"], summary="Recommend products to a user",
              openapi_extra=_body(pb.RecommendRequest), responses=_answers(pb.RecommendResponse))
    async def recommendations(request: Request):
        response = await call(request, "Recommend", await parse_body(request, pb.RecommendRequest()))
        return JSONResponse(recommend_response(response))  # MessageToDict's output, by hand (the hot path)

    @app.get("/products/{item_id}", tags=["catalogue"], summary="One product",
             responses=_answers(pb.GetProductResponse, errors=(400, 404, 503)))
    async def product(request: Request, item_id: str):
        return answer(await call(request, "GetProduct", pb.GetProductRequest(item_id=item_id)))

    @app.get("/users/{user_id}/history", tags=["users"], summary="A user's latest interactions, newest first",
             responses=_answers(pb.ListUserInteractionsResponse, errors=(400, 422, 501, 503)))
    async def history(request: Request, user_id: str,
                      limit: int = Query(20, description="at most this many (the gateway's limit applies)")):
        return answer(await call(request, "ListUserInteractions",
                                 pb.ListUserInteractionsRequest(user_id=user_id, limit=limit)))

    @app.post("/events", tags=["events"], status_code=202,
              summary="Record a user event (view, click, add_to_cart, purchase, rating)",
              openapi_extra=_body(events_pb2.UserEvent), responses=_answers(events_pb2.UserEvent, 202))
    async def post_event(request: Request):
        authorization(request, write=True)
        if events is None:
            raise ApiProblem(501, "this server has no event pipeline: set RECSYS_KAFKA_BOOTSTRAP")
        event = await parse_body(request, events_pb2.UserEvent())
        try:
            checked_event(event)
        except InvalidEvent as error:
            raise ApiProblem(400, str(error), reason=error.reason) from None
        try:
            await events.send(event)
        except ConnectionError as error:
            raise ApiProblem(503, str(error)) from None
        return answer(event, 202)

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _add_proto_schemas(app)
    app.add_middleware(ObserveRequests)
    return app


def _add_proto_schemas(app: FastAPI) -> None:
    """Put the protos' JSON Schemas (and the problem body's) into the OpenAPI document."""
    generate = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            document = generate()
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            for message in (pb.RecommendRequest, pb.RecommendResponse, pb.GetProductResponse,
                            pb.ListUserInteractionsResponse, pb.ListModelsResponse, pb.GetSystemInfoResponse,
                            events_pb2.UserEvent):
                add_schema(message.DESCRIPTOR, schemas)
            schemas["Problem"] = PROBLEM_SCHEMA
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi


class ObserveRequests:
    """ASGI middleware: counts and times every request by its route template (never the raw
    path, whose ids would make a series per user), and traces it when tracing is on."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def observed_send(message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        with server_span(f"HTTP {scope['method']}", scope.get("headers", [])) as span:
            try:
                await self.app(scope, receive, observed_send)
            finally:
                route = getattr(scope.get("route"), "path", "unmatched")
                if span is not None:
                    span.update_name(f"HTTP {scope['method']} {route}")
                    span.set_attribute("http.route", route)
                    span.set_attribute("http.response.status_code", status[0])
                HTTP_REQUESTS.labels(scope["method"], route, str(status[0])).inc()
                HTTP_DURATION.labels(scope["method"], route).observe(time.perf_counter() - started)
