"""OpenTelemetry setup, W3C trace context through Kafka headers, and a server span per HTTP request."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

TRACER_NAME = "casefold"
_propagator = TraceContextTextMapPropagator()
_installed: TracerProvider | None = None

KafkaHeaders = Iterable[tuple[str, bytes | None]]


def build_tracer_provider(service: str, exporter: SpanExporter | None = None) -> TracerProvider:
    """A TracerProvider for the service: the given exporter (synchronous, for tests), else OTLP/HTTP when configured."""
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    elif os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        # The exporter reads endpoint, headers and timeout from the standard OTEL_EXPORTER_OTLP_* variables.
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


def configure_tracing(service: str, exporter: SpanExporter | None = None) -> TracerProvider:
    """Install the process-wide TracerProvider once; later calls return the installed one unchanged."""
    global _installed
    if _installed is None:
        _installed = build_tracer_provider(service, exporter)
        trace.set_tracer_provider(_installed)
    return _installed


def get_tracer(name: str = TRACER_NAME) -> trace.Tracer:
    """A tracer from the global provider (a no-op one until configure_tracing runs)."""
    return trace.get_tracer(name)


def inject_headers(context: Context | None = None) -> list[tuple[str, bytes]]:
    """Kafka headers (traceparent, tracestate) carrying the current (or given) trace context."""
    carrier: dict[str, str] = {}
    _propagator.inject(carrier, context=context)
    return [(key, value.encode("ascii")) for key, value in carrier.items()]


def extract_context(headers: KafkaHeaders | None) -> Context:
    """The trace context carried by Kafka headers; an empty context when there is none."""
    carrier = {key.lower(): value.decode("ascii", "replace") for key, value in headers or () if value is not None}
    return _propagator.extract(carrier)


def current_traceparent() -> str | None:
    """The W3C traceparent of the current span, for storing with an outbox row; None outside a valid span."""
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier.get("traceparent")


def context_from_traceparent(traceparent: str | None, tracestate: str | None = None) -> Context:
    """A context whose remote parent is the given traceparent (an empty context when it is missing or invalid)."""
    carrier = {"traceparent": traceparent} if traceparent else {}
    if traceparent and tracestate:
        carrier["tracestate"] = tracestate
    return _propagator.extract(carrier)


class TracingMiddleware:
    """One SERVER span per HTTP request, continuing the caller's traceparent, named "METHOD /route/{template}"."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        tracer_provider: trace.TracerProvider | None = None,
        excluded_paths: Sequence[str] = ("/healthz", "/readyz", "/metrics"),
    ) -> None:
        self.app = app
        self.tracer_provider = tracer_provider
        self.excluded_paths = frozenset(excluded_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.excluded_paths:
            await self.app(scope, receive, send)
            return
        carrier = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        method = scope["method"]
        # Resolved per request so that a provider installed after the app was built is used.
        tracer = trace.get_tracer(TRACER_NAME, tracer_provider=self.tracer_provider)
        attributes = {"http.request.method": method, "url.path": scope["path"], "url.scheme": scope.get("scheme", "")}
        with tracer.start_as_current_span(
            method, context=_propagator.extract(carrier), kind=SpanKind.SERVER, attributes=attributes
        ) as span:

            async def send_with_status(message: Message) -> None:
                if message["type"] == "http.response.start":
                    status = message["status"]
                    span.set_attribute("http.response.status_code", status)
                    if status >= 500:
                        span.set_status(Status(StatusCode.ERROR))
                await send(message)

            try:
                await self.app(scope, receive, send_with_status)
            finally:
                route = getattr(scope.get("route"), "path", None)
                if isinstance(route, str):
                    span.set_attribute("http.route", route)
                    span.update_name(f"{method} {route}")
