"""OpenTelemetry for every service process: the provider (OTLP/HTTP when configured) and the FastAPI, asyncpg and
httpx instrumentations. Trace context through outbox rows and Kafka is casefold_events.tracecontext's.

Nothing configured (no OTEL_EXPORTER_OTLP_*ENDPOINT, no exporter given) installs nothing: the API's no-op provider
stays, so tests and `make test` need no collector. OTEL_SERVICE_NAME, when set, wins over the name the code gives.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, Decision, ParentBased, Sampler, SamplingResult
from opentelemetry.trace import Link, SpanKind
from opentelemetry.util.types import Attributes

# Services import the trace-context helpers from here, with the rest of tracing.
from casefold_events.tracecontext import (
    TRACER_NAME,
    context_from_traceparent,
    current_traceparent,
    extract_context,
    get_tracer,
    inject_headers,
)

__all__ = [
    "TRACER_NAME",
    "build_tracer_provider",
    "configure_tracing",
    "context_from_traceparent",
    "current_traceparent",
    "export_configured",
    "extract_context",
    "get_tracer",
    "inject_headers",
    "instrument_app",
    "service_name",
]

# Regexes searched in the request URL: probes and scrapes are not traced.
NOT_TRACED = r"/healthz$,/readyz$,/metrics$"

_installed: TracerProvider | None = None


def service_name(default: str) -> str:
    """The service.name of this process: OTEL_SERVICE_NAME when set (e.g. cases-worker), else the code's default."""
    return os.environ.get("OTEL_SERVICE_NAME", "").strip() or default


def export_configured() -> bool:
    """True when the standard variables ask for OTLP export (and the SDK is not disabled)."""
    if os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true" or os.environ.get("OTEL_TRACES_EXPORTER") == "none":
        return False
    return bool(os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


class SkipOrphanClientSpans(Sampler):
    """Parent-based, always on, except a CLIENT span with no parent: the relay's and loops' polling queries, which
    run every second outside any request or message, would otherwise each be a trace of one database span."""

    def __init__(self) -> None:
        self._delegate = ParentBased(ALWAYS_ON)

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: trace.TraceState | None = None,
    ) -> SamplingResult:
        if kind is SpanKind.CLIENT and not trace.get_current_span(parent_context).get_span_context().is_valid:
            return SamplingResult(Decision.DROP)
        return self._delegate.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)

    def get_description(self) -> str:
        return "SkipOrphanClientSpans"


def build_tracer_provider(service: str, exporter: SpanExporter | None = None) -> TracerProvider:
    """A TracerProvider for the service: the given exporter (synchronous, for tests), else OTLP/HTTP when configured.

    OTEL_TRACES_SAMPLER, when set, replaces our sampler (the SDK reads it)."""
    sampler = None if os.environ.get("OTEL_TRACES_SAMPLER") else SkipOrphanClientSpans()
    provider = TracerProvider(resource=Resource.create({"service.name": service_name(service)}), sampler=sampler)
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    elif export_configured():
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        # The exporter reads endpoint, headers and timeout from the standard OTEL_EXPORTER_OTLP_* variables; the
        # batch processor reads OTEL_BSP_* (the e2e test shortens its delay).
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


def _current_conventions() -> None:
    # The instrumentations emit the stable HTTP and database attribute names (http.response.status_code,
    # db.query.text ...) only when asked; asked once, before the first instrumentation reads it.
    os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http,database")


# On import as well: any instrumentation set up in this process after the platform is loaded (a test's, a tool's)
# reads the same conventions, whichever comes first.
_current_conventions()


def configure_tracing(service: str, exporter: SpanExporter | None = None) -> TracerProvider | None:
    """Install the process-wide TracerProvider and instrument asyncpg and httpx, once; later calls return it.

    Without an exporter and without OTLP configuration nothing is installed (None): spans stay no-ops."""
    global _installed
    if _installed is None:
        if exporter is None and not export_configured():
            return None
        _installed = build_tracer_provider(service, exporter)
        trace.set_tracer_provider(_installed)
        _current_conventions()
        AsyncPGInstrumentor().instrument(tracer_provider=_installed)  # type: ignore[no-untyped-call]
        HTTPXClientInstrumentor().instrument(tracer_provider=_installed)
    return _installed


def instrument_app(app: FastAPI, tracer_provider: trace.TracerProvider | None = None) -> None:
    """One SERVER span per request ("GET /api/cases/{case_id}"), continuing the caller's traceparent.

    tracer_provider None: the global one, resolved when a span starts (so it may be installed later)."""
    _current_conventions()
    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=tracer_provider, excluded_urls=NOT_TRACED, exclude_spans=["receive", "send"]
    )
