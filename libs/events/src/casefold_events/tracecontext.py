"""W3C trace context through outbox rows and Kafka headers: how a trace crosses the relay and reaches a consumer.

Setting up the process-wide TracerProvider and the instrumentations are the platform's (casefold_platform.tracing);
this module only reads and writes the context, so it works (as a no-op) before any provider is installed.
"""

from __future__ import annotations

from collections.abc import Iterable

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

TRACER_NAME = "casefold"
propagator = TraceContextTextMapPropagator()

KafkaHeaders = Iterable[tuple[str, bytes | None]]


def get_tracer(name: str = TRACER_NAME) -> trace.Tracer:
    """A tracer from the global provider (a no-op one until configure_tracing runs)."""
    return trace.get_tracer(name)


def inject_headers(context: Context | None = None) -> list[tuple[str, bytes]]:
    """Kafka headers (traceparent, tracestate) carrying the current (or given) trace context."""
    carrier: dict[str, str] = {}
    propagator.inject(carrier, context=context)
    return [(key, value.encode("ascii")) for key, value in carrier.items()]


def extract_context(headers: KafkaHeaders | None) -> Context:
    """The trace context carried by Kafka headers; an empty context when there is none."""
    carrier = {key.lower(): value.decode("ascii", "replace") for key, value in headers or () if value is not None}
    return propagator.extract(carrier)


def current_traceparent() -> str | None:
    """The W3C traceparent of the current span, for storing with an outbox row; None outside a valid span."""
    carrier: dict[str, str] = {}
    propagator.inject(carrier)
    return carrier.get("traceparent")


def traceparent_of(span: trace.Span) -> str | None:
    """The W3C traceparent naming span (what inject() writes for it, without attaching a context); None when the
    span is invalid (no tracer provider)."""
    ctx = span.get_span_context()
    if not ctx.is_valid:
        return None
    return f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{ctx.trace_flags:02x}"


def context_from_traceparent(traceparent: str | None, tracestate: str | None = None) -> Context:
    """A context whose remote parent is the given traceparent (an empty context when it is missing or invalid)."""
    carrier = {"traceparent": traceparent} if traceparent else {}
    if traceparent and tracestate:
        carrier["tracestate"] = tracestate
    return propagator.extract(carrier)


def kafka_attributes(
    operation: str, topic: str, key: bytes | str | None, message_id: object = None
) -> dict[str, str | int]:
    """The OTel messaging semantic-convention attributes of a Kafka send ("send") or handling ("process")."""
    attributes: dict[str, str | int] = {
        "messaging.system": "kafka",
        "messaging.operation.type": operation,
        "messaging.operation.name": operation,
        "messaging.destination.name": topic,
    }
    if key is not None:
        attributes["messaging.kafka.message.key"] = key.decode("utf-8", "replace") if isinstance(key, bytes) else key
    if message_id is not None:
        attributes["messaging.message.id"] = str(message_id)
    return attributes


def kafka_position(partition: int, offset: int) -> dict[str, str | int]:
    """Where the message is (known to a producer once the broker acknowledged it)."""
    return {"messaging.destination.partition.id": str(partition), "messaging.kafka.offset": offset}
