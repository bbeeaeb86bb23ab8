"""The consumer runner on real Kafka and PostgreSQL: dedupe, transient retries, dead letters, one trace."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from events_builders import META, comment
from opentelemetry import trace
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from casefold_events.consumer import ConsumerRunner
from casefold_events.envelope import Envelope, Metadata, encode, kafka_headers
from casefold_events.relay import OutboxRelay
from casefold_events.store import NO_STREAM, EventStore
from casefold_events.transient import TransientError
from casefold_platform.tracing import current_traceparent, get_tracer

pytestmark = pytest.mark.integration


def _envelope(meta: Metadata = META) -> Envelope:
    return Envelope.wrap(comment(), stream_id=str(uuid.uuid4()), stream_type="thread", stream_version=1, metadata=meta)


async def _send(producer: AIOKafkaProducer, topic: str, envelope: Envelope) -> None:
    await producer.send_and_wait(
        topic, encode(envelope), key=envelope.stream_id.encode(), headers=kafka_headers(envelope)
    )


async def _until(predicate: Callable[[], bool], seconds: float = 30) -> None:
    async with asyncio.timeout(seconds):
        while not predicate():
            await asyncio.sleep(0.05)


async def _dead_letters(bootstrap: str, topic: str, count: int) -> list[dict[str, bytes]]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        found: list[dict[str, bytes]] = []
        async with asyncio.timeout(30):
            while len(found) < count:
                batch = await consumer.getmany(timeout_ms=300)
                found += [dict(r.headers) for rs in batch.values() for r in rs]
        return found
    finally:
        await consumer.stop()


async def test_a_redelivered_event_is_handled_once(
    pool: asyncpg.Pool, kafka_bootstrap: str, kafka_topic: str, producer: AIOKafkaProducer
) -> None:
    seen: list[uuid.UUID] = []

    async def handle(conn: asyncpg.Connection, envelope: Envelope) -> None:
        seen.append(envelope.event_id)

    runner = ConsumerRunner(f"dedupe-{uuid.uuid4().hex[:6]}", kafka_bootstrap, [kafka_topic], pool, handle)
    await runner.start()
    try:
        first, second = _envelope(), _envelope()
        for envelope in (first, first, second, first):
            await _send(producer, kafka_topic, envelope)
        await _until(lambda: runner.handled == 4)
    finally:
        await runner.stop()

    assert seen == [first.event_id, second.event_id]


async def test_transient_failures_are_retried_until_they_pass(
    pool: asyncpg.Pool, kafka_bootstrap: str, kafka_topic: str, producer: AIOKafkaProducer
) -> None:
    calls = 0

    async def flaky(conn: asyncpg.Connection, envelope: Envelope) -> None:
        nonlocal calls
        calls += 1
        if calls <= 7:  # more than max_attempts: transient failures are not counted against it
            raise TransientError("smtp is down")
        await conn.execute("SELECT 1")

    runner = ConsumerRunner(f"flaky-{uuid.uuid4().hex[:6]}", kafka_bootstrap, [kafka_topic], pool, flaky,
                            max_attempts=3, backoff_initial=0.01, backoff_max=0.05)  # fmt: skip
    await runner.start()
    try:
        await _send(producer, kafka_topic, _envelope())
        await _until(lambda: runner.handled == 1)
    finally:
        await runner.stop()

    assert calls == 8
    assert runner.dead_lettered == 0


async def test_stop_cuts_a_retry_backoff_short_and_leaves_the_message_for_later(
    pool: asyncpg.Pool, kafka_bootstrap: str, kafka_topic: str, producer: AIOKafkaProducer
) -> None:
    group = f"stopping-{uuid.uuid4().hex[:6]}"
    calls = 0

    async def down(conn: asyncpg.Connection, envelope: Envelope) -> None:
        nonlocal calls
        calls += 1
        raise TransientError("smtp is down")

    runner = ConsumerRunner(group, kafka_bootstrap, [kafka_topic], pool, down,
                            backoff_initial=600, backoff_max=600)  # fmt: skip
    await runner.start()
    try:
        await _send(producer, kafka_topic, _envelope())
        await _until(lambda: calls == 1)
    finally:
        # A shutdown must not sit out a 10-minute backoff (the orchestrator's SIGKILL would come first).
        stopping = asyncio.create_task(runner.stop())
        stopped_in_time, _ = await asyncio.wait([stopping], timeout=20)
        if not stopped_in_time:
            stopping.cancel()
    assert stopped_in_time

    handled: list[Envelope] = []

    async def up(conn: asyncpg.Connection, envelope: Envelope) -> None:
        handled.append(envelope)

    successor = ConsumerRunner(group, kafka_bootstrap, [kafka_topic], pool, up)
    await successor.start()
    try:
        await _until(lambda: len(handled) == 1)  # uncommitted, so the group's next member gets it
    finally:
        await successor.stop()


async def test_poison_and_failing_events_go_to_the_dead_letter_topic_and_the_partition_moves_on(
    pool: asyncpg.Pool, kafka_bootstrap: str, topic_factory: Callable[..., object], producer: AIOKafkaProducer
) -> None:
    topic = await topic_factory("source")  # type: ignore[misc]
    name = f"dlq-{uuid.uuid4().hex[:6]}"
    bad, good = _envelope(), _envelope()
    handled: list[uuid.UUID] = []

    async def handle(conn: asyncpg.Connection, envelope: Envelope) -> None:
        if envelope.event_id == bad.event_id:
            raise ValueError("cannot project this")
        handled.append(envelope.event_id)

    runner = ConsumerRunner(name, kafka_bootstrap, [topic], pool, handle, max_attempts=2, backoff_initial=0.01)
    await runner.start()
    try:
        await producer.send_and_wait(topic, b"{not json", key=b"k")
        await _send(producer, topic, bad)
        await _send(producer, topic, good)
        await _until(lambda: handled == [good.event_id])
    finally:
        await runner.stop()

    letters = await _dead_letters(kafka_bootstrap, f"{name}.dlq", 2)
    errors = [h["dlq.error"].decode() for h in letters]
    assert errors[0].startswith("DecodeError")
    assert errors[1] == "ValueError: cannot project this"
    assert letters[1]["event_id"] == str(bad.event_id).encode()
    assert runner.dead_lettered == 2
    # The failed event's inbox row rolled back with its transaction: a replay from the DLQ can handle it later.
    assert await pool.fetchval("SELECT count(*) FROM inbox WHERE event_id = $1", bad.event_id) == 0


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    """Spans of the process-wide SDK provider for one test, with asyncpg instrumented while it runs. Not
    configure_tracing: that instruments httpx for the rest of the process, and later tests of the session (the e2e
    trace test's client) must not send traceparents of an unsampled trace to the gateway."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrumentor = AsyncPGInstrumentor()  # type: ignore[no-untyped-call]
    instrumentor.instrument(tracer_provider=provider)
    try:
        yield exporter
    finally:
        instrumentor.uninstrument()
        exporter.shutdown()  # the provider stays for the rest of the session; later tests' spans are not kept here


async def test_one_trace_runs_from_the_append_through_the_relay_to_the_consumer(
    pool: asyncpg.Pool, database: str, kafka_bootstrap: str, kafka_topic: str, exporter: InMemorySpanExporter
) -> None:
    store = EventStore(topics={"thread": kafka_topic})
    handled_in: list[int] = []

    async def handle(conn: asyncpg.Connection, envelope: Envelope) -> None:
        handled_in.append(trace.get_current_span().get_span_context().trace_id)

    relay = OutboxRelay(database, kafka_bootstrap, "trace-test")
    runner = ConsumerRunner(f"trace-{uuid.uuid4().hex[:6]}", kafka_bootstrap, [kafka_topic], pool, handle)
    await relay.start()
    await runner.start()
    try:
        with get_tracer().start_as_current_span("POST /api/cases") as request_span:
            meta = Metadata(actor=META.actor, traceparent=current_traceparent())
            async with pool.acquire() as conn, conn.transaction():
                await store.append(conn, str(uuid.uuid4()), "thread", [comment()], expected_version=NO_STREAM,
                                   metadata=meta)  # fmt: skip
        await _until(lambda: bool(handled_in))
    finally:
        await runner.stop()
        await relay.stop()

    trace_id = request_span.get_span_context().trace_id
    assert handled_in == [trace_id]
    spans = {s.name: s for s in exporter.get_finished_spans() if s.context.trace_id == trace_id}
    send, process = spans[f"send {kafka_topic}"], spans[f"process {kafka_topic}"]
    assert send.kind is SpanKind.PRODUCER
    assert send.parent is not None
    assert send.parent.span_id == request_span.get_span_context().span_id
    assert process.kind is SpanKind.CONSUMER
    assert process.parent is not None
    assert process.parent.span_id == send.context.span_id  # the message carried the publish span's traceparent
    sent, handled = dict(send.attributes or {}), dict(process.attributes or {})
    assert sent["messaging.system"] == handled["messaging.system"] == "kafka"
    assert (sent["messaging.operation.type"], handled["messaging.operation.type"]) == ("send", "process")
    assert sent["messaging.destination.name"] == handled["messaging.destination.name"] == kafka_topic
    assert sent["messaging.kafka.offset"] == handled["messaging.kafka.offset"]
    assert sent["messaging.destination.partition.id"] == handled["messaging.destination.partition.id"] == "0"
    assert sent["messaging.kafka.message.key"] == handled["messaging.kafka.message.key"]
    assert handled["messaging.consumer.group.name"] == runner.name
    # The consumer's inbox insert is a database span inside the CONSUMER span (the asyncpg instrumentation).
    assert any(s.parent is not None and s.parent.span_id == process.context.span_id
               for s in exporter.get_finished_spans() if s.kind is SpanKind.CLIENT)  # fmt: skip


async def test_failures_from_a_private_topic_go_to_its_own_dead_letter_topic(
    pool: asyncpg.Pool, kafka_bootstrap: str, topic_factory: Callable[..., object], producer: AIOKafkaProducer
) -> None:
    public = await topic_factory("public")  # type: ignore[misc]
    private = await topic_factory("private")  # type: ignore[misc]
    name = f"split-{uuid.uuid4().hex[:6]}"
    private_dlq = f"{name}.private.dlq"
    runner = ConsumerRunner(name, kafka_bootstrap, [public, private], pool, _never_called, max_attempts=1,
                            dead_letter_topics={private: private_dlq})  # fmt: skip
    await runner.start()
    try:
        await producer.send_and_wait(private, b"secret link inside, not an envelope", key=b"k")
        await producer.send_and_wait(public, b"not an envelope either", key=b"k")
        await _until(lambda: runner.dead_lettered == 2)
    finally:
        await runner.stop()

    assert (await _dead_letters(kafka_bootstrap, private_dlq, 1))[0]["dlq.source"].startswith(private.encode())
    assert (await _dead_letters(kafka_bootstrap, f"{name}.dlq", 1))[0]["dlq.source"].startswith(public.encode())


async def _never_called(conn: asyncpg.Connection, envelope: Envelope) -> None:
    raise AssertionError("poison never reaches the handler")
