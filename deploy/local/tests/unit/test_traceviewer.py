"""The local trace viewer: real OTLP/HTTP exports (the SDK's exporter) arrive, are kept, and are drawn as trees."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, StatusCode

from casefold_local.procs import free_port
from casefold_local.tracestore import TraceStore, tree_lines
from casefold_local.traceviewer import receiving


@pytest.fixture
def viewer() -> Iterator[tuple[str, TraceStore]]:
    with receiving(free_port(), TraceStore(max_traces=3)) as receiver:
        yield receiver.url, receiver.store


def _provider(url: str, service: str) -> TracerProvider:
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{url}/v1/traces")))
    return provider


def test_spans_from_two_services_form_one_tree(viewer: tuple[str, TraceStore]) -> None:
    url, store = viewer
    gateway, cases = _provider(url, "gateway"), _provider(url, "cases")
    with (
        gateway.get_tracer("t").start_as_current_span("ingress", kind=SpanKind.SERVER) as root,
        cases.get_tracer("t").start_as_current_span("POST /api/cases", kind=SpanKind.SERVER) as request,
    ):
        request.set_attribute("http.route", "/api/cases")
        with cases.get_tracer("t").start_as_current_span("INSERT", kind=SpanKind.CLIENT) as insert:
            insert.set_status(StatusCode.ERROR)
    trace_id = format(root.get_span_context().trace_id, "032x")

    store.wait_for(lambda s: len(s.trace(trace_id)) == 3, 5)
    spans = store.trace(trace_id)

    assert [(s.name, s.service, s.kind) for s in spans] == [
        ("ingress", "gateway", "SERVER"),
        ("POST /api/cases", "cases", "SERVER"),
        ("INSERT", "cases", "CLIENT"),
    ]
    assert spans[1].attributes["http.route"] == "/api/cases"
    lines = tree_lines(spans)
    assert [line[:60].rstrip() for line in lines] == ["ingress", "  POST /api/cases", "    INSERT"]
    assert lines[2].endswith("ERROR")
    page = httpx.get(f"{url}/traces/{trace_id}").text
    assert "POST /api/cases" in page
    assert "http.route = &#x27;/api/cases&#x27;" in page
    assert httpx.get(f"{url}/api/traces").json()[0]["trace_id"] == trace_id


def test_only_the_most_recent_traces_are_kept(viewer: tuple[str, TraceStore]) -> None:
    url, store = viewer
    tracer = _provider(url, "cases").get_tracer("t")
    ids = []
    for n in range(4):
        with tracer.start_as_current_span(f"request {n}") as span:
            ids.append(format(span.get_span_context().trace_id, "032x"))

    store.wait_for(lambda s: s.trace(ids[-1]), 5)

    assert [t[0].trace_id for t in store.recent()] == list(reversed(ids[1:]))
    assert httpx.get(f"{url}/traces/{ids[0]}").status_code == 404


def test_anything_but_an_otlp_protobuf_export_is_refused(viewer: tuple[str, TraceStore]) -> None:
    url, store = viewer

    as_json = httpx.post(f"{url}/v1/traces", json={"resourceSpans": []})
    protobuf = {"content-type": "application/x-protobuf"}
    garbage = httpx.post(f"{url}/v1/traces", content=b"\xff\xff\xff", headers=protobuf)

    assert (as_json.status_code, garbage.status_code) == (415, 400)
    assert store.spans() == []
