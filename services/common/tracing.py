"""OpenTelemetry tracing: a server span per RPC, W3C trace context carried in gRPC metadata from
the gateway to its backends, so one Recommend is one trace across the four services.

The exporter is chosen by RECSYS_TRACES: ``otlp`` (OTLP/gRPC to OTEL_EXPORTER_OTLP_ENDPOINT,
configured by the standard OTEL_* variables), ``console``, or ``none`` (default: no spans are made
and no trace context is sent on, so tracing costs nothing). Tests install an in-memory exporter.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Mapping

import grpc
from opentelemetry import context, propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor, SpanExporter

TRACER_NAME = "recsys"


def configure_tracing(service: str, env: Mapping[str, str] | None = None, exporter: SpanExporter | None = None,
                      synchronous: bool = False) -> TracerProvider | None:
    """Install the process's tracer provider (once; later calls add ``exporter`` to it).
    ``synchronous`` exports each span as it ends (tests), instead of in batches. With nothing to
    export, no provider is installed and the call pipeline skips span work entirely."""
    current = trace.get_tracer_provider()
    _enabled.clear()
    if isinstance(current, TracerProvider):
        if exporter is not None:
            current.add_span_processor(SimpleSpanProcessor(exporter) if synchronous else BatchSpanProcessor(exporter))
        return current
    env = os.environ if env is None else env
    choice = env.get("RECSYS_TRACES", "none").lower()
    if exporter is None and choice == "otlp":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()
    elif exporter is None and choice == "console":
        exporter = ConsoleSpanExporter()
    elif exporter is None and choice != "none":
        raise ValueError(f"RECSYS_TRACES must be otlp, console or none, got '{choice}'")
    if exporter is None:
        return None
    provider = TracerProvider(resource=Resource.create({"service.name": f"recsys-{service}"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter) if synchronous else BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    _enabled.clear()
    return provider


_enabled: list[bool] = []  # the answer of tracing_enabled, once known


def tracing_enabled() -> bool:
    """True once configure_tracing installed an exporting provider in this process. Asked on every
    call and request: opentelemetry's get_tracer_provider reads the environment each time (5% of
    the HTTP server's main thread at 400 req/s), so the answer is kept until the provider changes."""
    if not _enabled:
        _enabled.append(isinstance(trace.get_tracer_provider(), TracerProvider))
    return _enabled[0]


def outgoing_metadata() -> list[tuple[str, str]] | None:
    """The current trace context as gRPC metadata for a client call (None when not tracing)."""
    if not tracing_enabled():
        return None
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return list(carrier.items())


@contextlib.contextmanager
def grpc_server_span(method: str, metadata) -> Iterator[trace.Span]:
    """A SERVER span for a gRPC call (child of the caller's context when its metadata carries one)."""
    carrier = {key: value for key, value in metadata or () if isinstance(value, str)}
    token = context.attach(propagate.extract(carrier))
    try:
        with trace.get_tracer(TRACER_NAME).start_as_current_span(
                method, kind=trace.SpanKind.SERVER, attributes={"rpc.system": "grpc", "rpc.method": method}) as span:
            yield span
    finally:
        context.detach(token)


def traced_status(span: trace.Span, code: grpc.StatusCode | None) -> None:
    """Mark a call's span as failed, with the status code it ended with (UNKNOWN when none was set)."""
    span.set_attribute("rpc.grpc.status_code", code.value[0] if isinstance(code, grpc.StatusCode) else 2)
    span.set_status(trace.Status(trace.StatusCode.ERROR))


@contextlib.contextmanager
def server_span(name: str, headers: Iterable[tuple[bytes, bytes]]) -> Iterator[trace.Span | None]:
    """A SERVER span for an HTTP request (child of the caller's ``traceparent`` when it sent one);
    None, and no work, when tracing is off."""
    if not tracing_enabled():
        yield None
        return
    carrier = {key.decode("latin-1"): value.decode("latin-1") for key, value in headers}
    token = context.attach(propagate.extract(carrier))
    try:
        with trace.get_tracer(TRACER_NAME).start_as_current_span(name, kind=trace.SpanKind.SERVER) as span:
            yield span
    finally:
        context.detach(token)
