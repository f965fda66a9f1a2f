"""What every gRPC server here does around each call, as one wrapper per method.

In call order: note the call for the drain (services/common/drain.py: health and reflection aside),
open a SERVER span when tracing exports (services/common/tracing.py), time and count the call by
its final status code (services/common/metrics.py), refuse it without a valid bearer token where
the method needs one (services/common/auth.py), answer INVALID_ARGUMENT for a body that is not the
method's message, and turn the servicer's exceptions into status codes with messages
(services/common/errors.py).

These were five grpc.aio interceptors. grpc.aio runs each interceptor's ``intercept_service``
coroutine on every call, before the handler is even found, and each wrapping one adds a coroutine
around the handler. Here the method handlers are wrapped once, as the services register
(``PipelinedRegistration`` stands in for the server then), and the server has no interceptors: the
server CPU a call costs above a bare grpc.aio server fell from about 50 to 37 us
(benchmarks/call_overhead.py; docs/benchmarks.md). Calls to methods no service here has get
UNIMPLEMENTED from ``Unimplemented``, registered last, which also counts them.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping, Sequence

import grpc

from core.security import Security
from services.common.auth import metadata_value, needs_token, refusal
from services.common.drain import Activity, is_housekeeping
from services.common.errors import client_message, report_undecodable, report_unexpected, status_for
from services.common.handlers import UndecodableRequest, WrappedHandlers, rewrap_unary
from services.common.metrics import RPC_DURATION, RPC_TOTAL, labelled
from services.common.tracing import grpc_server_span, traced_status, tracing_enabled

Behaviour = Callable[[object, grpc.aio.ServicerContext], Awaitable[object]]


def _status_name(context: grpc.aio.ServicerContext) -> str:
    status = context.code()
    return status.name if isinstance(status, grpc.StatusCode) else "UNKNOWN"


class CallPipeline:
    """Wraps one server's method handlers; ``activity`` hears of every client call, ``security``
    says which methods need a token."""

    def __init__(self, activity: Activity, security: Security) -> None:
        self.activity = activity
        self.security = security

    def wrap(self, method: str, handler: grpc.RpcMethodHandler | None) -> grpc.RpcMethodHandler | None:
        """``handler`` of the full method name ``method`` ("/package.Service/Method") in the pipeline.
        Streaming handlers (the health service's Watch, reflection) pass through untouched: they are
        housekeeping, and a streaming method of ours would be refused here rather than left unguarded."""
        if handler is None:
            return None
        if handler.unary_unary is None:
            if not is_housekeeping(method):
                raise ValueError(f"{method}: only unary methods can be served through the call pipeline")
            return handler
        return rewrap_unary(handler, lambda inner: self._unary(method, inner))

    def _unary(self, method: str, inner: Behaviour) -> Behaviour:
        service, _, name = method.lstrip("/").partition("/")
        service = service.rsplit(".", 1)[-1]
        span_name = method.lstrip("/")
        touches = not is_housekeeping(method)
        guarded = needs_token(self.security, method)
        activity, security = self.activity, self.security

        async def answer(request, context: grpc.aio.ServicerContext):
            if touches:
                activity.touch()
            if tracing_enabled():
                with grpc_server_span(span_name, context.invocation_metadata()) as span:
                    try:
                        return await measured(request, context)
                    except BaseException:
                        traced_status(span, context.code())
                        raise
            return await measured(request, context)

        async def measured(request, context: grpc.aio.ServicerContext):
            started = time.perf_counter()
            code = "OK"
            try:
                if guarded:
                    refused = refusal(security, metadata_value(context.invocation_metadata(), "authorization"))
                    if refused is not None:
                        await context.abort(grpc.StatusCode.UNAUTHENTICATED, refused)
                if isinstance(request, UndecodableRequest):
                    report_undecodable(method)
                    await context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                                        f"the request body is not a valid message for {method}")
                try:
                    return await inner(request, context)
                except grpc.aio.AbortError:
                    raise  # the servicer already chose a status
                except Exception as error:  # noqa: BLE001 - every error becomes a status code
                    status = status_for(error)
                    if status == grpc.StatusCode.INTERNAL:
                        report_unexpected(method)
                    await context.abort(status, client_message(error, status))
            except BaseException:
                code = _status_name(context)
                raise
            finally:
                labelled(RPC_DURATION, service, name, code).observe(time.perf_counter() - started)
                labelled(RPC_TOTAL, service, name, code).inc()

        return answer


class _PipelinedGeneric(grpc.GenericRpcHandler):
    """A service's generic handler whose answers come wrapped (kept per method: wrapping depends
    only on the method and the handler)."""

    def __init__(self, inner: grpc.GenericRpcHandler, pipeline: CallPipeline) -> None:
        self._inner = inner
        self._pipeline = pipeline
        self._wrapped = WrappedHandlers()

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        method = handler_call_details.method
        return self._wrapped.get(method, self._inner.service(handler_call_details),
                                 lambda handler: self._pipeline.wrap(method, handler))


class Unimplemented(grpc.GenericRpcHandler):
    """Registered last: answers every method no service here has with UNIMPLEMENTED, counted under
    fixed labels (the paths are anyone's). Stream-stream, so a call of any shape gets the answer."""

    def __init__(self) -> None:
        async def refuse(_requests, context: grpc.aio.ServicerContext) -> None:
            labelled(RPC_TOTAL, "unknown", "unknown", "UNIMPLEMENTED").inc()
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, "Method not found!")

        self._handler = grpc.stream_stream_rpc_method_handler(refuse)

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler:
        return self._handler


class PipelinedRegistration:
    """Stands in for a grpc.aio server while services register (the generated
    ``add_*Servicer_to_server`` functions call these two methods): their handlers reach the server
    already in the pipeline."""

    def __init__(self, server: grpc.aio.Server, pipeline: CallPipeline) -> None:
        self._server = server
        self._pipeline = pipeline

    def add_generic_rpc_handlers(self, generic_rpc_handlers: Sequence[grpc.GenericRpcHandler]) -> None:
        self._server.add_generic_rpc_handlers(tuple(_PipelinedGeneric(handler, self._pipeline)
                                                    for handler in generic_rpc_handlers))

    def add_registered_method_handlers(self, service_name: str,
                                       method_handlers: Mapping[str, grpc.RpcMethodHandler]) -> None:
        self._server.add_registered_method_handlers(
            service_name, {name: self._pipeline.wrap(f"/{service_name}/{name}", handler)
                           for name, handler in method_handlers.items()})
