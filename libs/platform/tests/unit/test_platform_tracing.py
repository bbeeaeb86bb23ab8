"""Trace context survives Kafka headers and outbox rows; HTTP requests continue the caller's trace."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from casefold_platform.tracing import (
    build_tracer_provider,
    context_from_traceparent,
    current_traceparent,
    export_configured,
    extract_context,
    inject_headers,
)

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"


def test_a_consumer_span_continues_the_producer_trace(provider: TracerProvider, spans: InMemorySpanExporter) -> None:
    tracer = provider.get_tracer("t")
    with tracer.start_as_current_span("publish") as producer:
        headers = inject_headers()

    with tracer.start_as_current_span("consume", context=extract_context(headers), kind=SpanKind.CONSUMER) as consumer:
        pass

    assert [key for key, _ in headers] == ["traceparent"]
    assert all(isinstance(value, bytes) for _, value in headers)
    assert consumer.get_span_context().trace_id == producer.get_span_context().trace_id
    assert isinstance(consumer, ReadableSpan)
    assert consumer.parent is not None
    assert consumer.parent.span_id == producer.get_span_context().span_id


def test_extract_ignores_other_and_empty_headers(provider: TracerProvider) -> None:
    headers = [("event_type", b"CaseOpened"), ("traceparent", TRACEPARENT.encode()), ("empty", None)]

    with provider.get_tracer("t").start_as_current_span("consume", context=extract_context(headers)) as span:
        pass

    assert format(span.get_span_context().trace_id, "032x") == CALLER_TRACE


def test_no_headers_start_a_new_trace(provider: TracerProvider) -> None:
    with provider.get_tracer("t").start_as_current_span("consume", context=extract_context(None)) as span:
        pass

    assert isinstance(span, ReadableSpan)
    assert span.parent is None


def test_the_traceparent_of_an_outbox_row_round_trips(provider: TracerProvider) -> None:
    assert current_traceparent() is None
    with provider.get_tracer("t").start_as_current_span("append") as appended:
        stored = current_traceparent()

    assert stored is not None
    with provider.get_tracer("t").start_as_current_span("relay", context=context_from_traceparent(stored)) as relayed:
        pass

    assert relayed.get_span_context().trace_id == appended.get_span_context().trace_id
    assert trace.get_current_span(context_from_traceparent("garbage")).get_span_context().is_valid is False


def test_the_provider_names_the_service() -> None:
    provider = build_tracer_provider("cases")

    assert provider.resource.attributes["service.name"] == "cases"


def test_a_request_continues_the_callers_trace(
    app_factory: Callable[..., FastAPI], provider: TracerProvider, spans: InMemorySpanExporter
) -> None:
    client = TestClient(app_factory(tracer_provider=provider))

    client.get("/things/5", headers={"traceparent": TRACEPARENT})

    [span] = spans.get_finished_spans()
    assert span.name == "GET /things/{thing_id}"
    assert span.kind is SpanKind.SERVER
    assert format(span.context.trace_id, "032x") == CALLER_TRACE
    assert span.parent is not None
    assert format(span.parent.span_id, "016x") == CALLER_SPAN
    assert span.attributes is not None
    assert span.attributes["http.route"] == "/things/{thing_id}"
    assert span.attributes["http.response.status_code"] == 200


def test_a_failed_request_marks_its_span_as_error(
    app_factory: Callable[..., FastAPI], provider: TracerProvider, spans: InMemorySpanExporter
) -> None:
    TestClient(app_factory(tracer_provider=provider)).get("/crash")

    [span] = spans.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR


def test_probes_are_not_traced(
    app_factory: Callable[..., FastAPI], provider: TracerProvider, spans: InMemorySpanExporter
) -> None:
    client = TestClient(app_factory(tracer_provider=provider))

    client.get("/healthz")
    client.get("/metrics")

    assert spans.get_finished_spans() == ()


def test_the_access_line_carries_the_request_trace_id(
    app_factory: Callable[..., FastAPI],
    provider: TracerProvider,
    spans: InMemorySpanExporter,
    log_lines: Callable[[], list[dict[str, Any]]],
) -> None:
    TestClient(app_factory(tracer_provider=provider)).get("/things/5", headers={"traceparent": TRACEPARENT})

    [access] = [line for line in log_lines() if line["event"] == "request"]
    assert access["trace_id"] == CALLER_TRACE
    assert access["span_id"] == format(spans.get_finished_spans()[0].context.span_id, "016x")


def test_otel_service_name_wins_over_the_codes_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SERVICE_NAME", "cases-worker")

    assert build_tracer_provider("cases").resource.attributes["service.name"] == "cases-worker"


NOTHING_INSTALLED = """
from opentelemetry import trace
from casefold_platform.tracing import configure_tracing, export_configured
assert export_configured() is False
assert configure_tracing("cases") is None
assert not trace.get_tracer("t").start_span("x").is_recording()
print("no-op")
"""


def test_without_an_otlp_endpoint_nothing_is_installed() -> None:
    # In a fresh process: the provider is process-wide and set once, and other tests of this run install one.
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    done = subprocess.run([sys.executable, "-c", NOTHING_INSTALLED], env=env, capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "no-op"


def test_an_endpoint_asks_for_export_unless_the_sdk_is_disabled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    assert export_configured() is True

    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert export_configured() is False


def test_a_database_call_outside_any_trace_is_not_recorded(provider: TracerProvider) -> None:
    tracer = provider.get_tracer("t")

    polling = tracer.start_span("SELECT", kind=SpanKind.CLIENT)
    with tracer.start_as_current_span("POST /api/cases", kind=SpanKind.SERVER):
        in_request = tracer.start_span("INSERT", kind=SpanKind.CLIENT)

    assert polling.is_recording() is False
    assert in_request.is_recording() is True


def test_an_app_is_instrumented_only_when_spans_go_somewhere(
    app_factory: Callable[..., FastAPI], provider: TracerProvider
) -> None:
    # No exporter in this process's environment: the middleware would only cost CPU on every request.
    assert not export_configured()

    assert not getattr(app_factory(), "_is_instrumented_by_opentelemetry", False)
    assert getattr(app_factory(tracer_provider=provider), "_is_instrumented_by_opentelemetry", False)
