"""OpenTelemetry setup and a server span per HTTP request (Kafka trace context: casefold_events.tracecontext)."""

from __future__ import annotations

import os
from collections.abc import Sequence

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Trace context through Kafka is the events package's; services import it from here, with the rest of tracing.
from casefold_events.tracecontext import (
    TRACER_NAME,
    context_from_traceparent,
    current_traceparent,
    extract_context,
    get_tracer,
    inject_headers,
)
from casefold_events.tracecontext import propagator as _propagator

__all__ = [
    "TRACER_NAME",
    "TracingMiddleware",
    "build_tracer_provider",
    "configure_tracing",
    "context_from_traceparent",
    "current_traceparent",
    "extract_context",
    "get_tracer",
    "inject_headers",
]

_installed: TracerProvider | None = None


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
