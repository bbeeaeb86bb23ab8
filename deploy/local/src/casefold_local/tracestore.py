"""Recent traces, decoded from OTLP/HTTP protobuf export requests, and drawn as trees (the local trace viewer's).

Spans arrive from every process in batches and in any order; a trace is whatever spans share a trace id so far.
Only the most recent traces are kept (by the time their last span arrived).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

KINDS = {0: "UNSPECIFIED", 1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}
STATUSES = {0: "UNSET", 1: "OK", 2: "ERROR"}

Attribute = str | int | float | bool | list[Any] | None
T = TypeVar("T")


def _value(value: AnyValue) -> Attribute:
    which = value.WhichOneof("value")
    if which == "array_value":
        return [_value(v) for v in value.array_value.values]
    if which in (None, "kvlist_value", "bytes_value"):
        return None if which is None else str(value)
    found: Attribute = getattr(value, which)
    return found


def _attributes(pairs: Iterable[KeyValue]) -> dict[str, Attribute]:
    return {kv.key: _value(kv.value) for kv in pairs}


@dataclass(frozen=True)
class Span:
    """One finished span, as the viewer shows it."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    kind: str
    service: str
    start_ns: int
    end_ns: int
    status: str = "UNSET"
    attributes: dict[str, Attribute] = field(default_factory=dict)

    @property
    def duration_ms(self) -> float:
        return (self.end_ns - self.start_ns) / 1e6

    def as_json(self) -> dict[str, Any]:
        return {
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "parent_span_id": self.parent_span_id,
            "name": self.name,
            "kind": self.kind,
            "service": self.service,
            "start_ns": self.start_ns,
            "duration_ms": round(self.duration_ms, 3),
            "status": self.status,
            "attributes": self.attributes,
        }


def decode(body: bytes) -> list[Span]:
    """The spans of one OTLP/HTTP protobuf export request (raises google.protobuf's DecodeError on garbage)."""
    request = ExportTraceServiceRequest.FromString(body)
    spans = []
    for resource_spans in request.resource_spans:
        service = str(_attributes(resource_spans.resource.attributes).get("service.name") or "unknown")
        for scope_spans in resource_spans.scope_spans:
            for s in scope_spans.spans:
                spans.append(
                    Span(
                        trace_id=s.trace_id.hex(),
                        span_id=s.span_id.hex(),
                        parent_span_id=s.parent_span_id.hex() or None,
                        name=s.name,
                        kind=KINDS.get(s.kind, str(s.kind)),
                        service=service,
                        start_ns=s.start_time_unix_nano,
                        end_ns=s.end_time_unix_nano,
                        status=STATUSES.get(s.status.code, str(s.status.code)),
                        attributes=_attributes(s.attributes),
                    )
                )
    return spans


class TraceStore:
    """The last max_traces traces, safe to add to and read from different threads."""

    def __init__(self, max_traces: int = 200, max_spans_per_trace: int = 2000) -> None:
        self.max_traces = max_traces
        self.max_spans_per_trace = max_spans_per_trace
        self._traces: OrderedDict[str, list[Span]] = OrderedDict()
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)

    def add(self, spans: Iterable[Span]) -> None:
        with self._lock:
            for span in spans:
                trace = self._traces.setdefault(span.trace_id, [])
                if len(trace) < self.max_spans_per_trace:
                    trace.append(span)
                self._traces.move_to_end(span.trace_id)
            while len(self._traces) > self.max_traces:
                self._traces.popitem(last=False)
            self._changed.notify_all()

    def trace(self, trace_id: str) -> list[Span]:
        """Its spans so far, by start time (empty when unknown)."""
        with self._lock:
            return sorted(self._traces.get(trace_id.lower(), ()), key=lambda s: s.start_ns)

    def recent(self, limit: int = 20) -> list[list[Span]]:
        """The most recently updated traces first."""
        with self._lock:
            ids = list(reversed(self._traces))[:limit]
        return [self.trace(i) for i in ids]

    def spans(self) -> list[Span]:
        with self._lock:
            return [s for trace in self._traces.values() for s in trace]

    def wait_for(self, found: Callable[[TraceStore], T], timeout: float) -> T:
        """found(store) once it is truthy, re-checked whenever spans arrive; its last value when the time is up."""
        deadline = time.monotonic() + timeout
        while True:
            result = found(self)
            remaining = deadline - time.monotonic()
            if result or remaining <= 0:
                return result
            with self._changed:
                self._changed.wait(min(0.25, remaining))


def tree_lines(spans: list[Span]) -> list[str]:
    """One line per span, indented under its parent; a span whose parent has not arrived starts a root."""
    ids = {s.span_id for s in spans}
    children: dict[str | None, list[Span]] = {}
    for span in sorted(spans, key=lambda s: s.start_ns):
        parent = span.parent_span_id if span.parent_span_id in ids else None
        children.setdefault(parent, []).append(span)
    lines: list[str] = []

    def walk(parent: str | None, depth: int) -> None:
        for span in children.get(parent, []):
            error = "  ERROR" if span.status == "ERROR" else ""
            label = f"{'  ' * depth}{span.name}"
            lines.append(f"{label:<60} {span.service:<16} {span.kind:<8} {span.duration_ms:9.1f} ms{error}")
            walk(span.span_id, depth + 1)

    walk(None, 0)
    return lines


def describe(spans: list[Span]) -> str:
    """A trace's heading: id, span count, services and overall duration."""
    if not spans:
        return "(no spans)"
    start, end = min(s.start_ns for s in spans), max(s.end_ns for s in spans)
    services = ", ".join(dict.fromkeys(s.service for s in spans))
    return f"trace {spans[0].trace_id}  {len(spans)} spans  {(end - start) / 1e6:.1f} ms  ({services})"
