"""The consumer runner every service uses: inbox-deduplicated handling, retries, dead letters, lag.

For each message: decode the envelope; in ONE database transaction record (consumer, event_id) in the inbox and,
if it was new, call the handler; commit the Kafka offset only after that transaction. A redelivery finds the
inbox row and does nothing. Transient failures (database or network down, TransientError) are retried with
capped exponential backoff for as long as they last: they delay work and lose none. Any other failure is retried
`max_attempts` times, then the message goes to the dead-letter topic `<name>.dlq` with the error in its headers,
so one poison message never blocks the partition for ever and is never dropped silently.

When Kafka refuses the dead letter for good (too large for the dead-letter topic, not authorised, no such topic; or
any refusal that outlasts `dead_letter_budget` seconds) the message is parked in the consumer database's
`dead_letters` table instead (logged, counted in casefold_dead_letters_parked_total, alerted on), and the offset
is committed: the partition moves on either way. Both kinds are looked at and re-driven to the consumer with
`python -m <service> dead-letters` (casefold_events.dead_letters).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import (
    InvalidTopicError,
    KafkaError,
    MessageSizeTooLargeError,
    RecordTooLargeError,
    TopicAuthorizationFailedError,
)
from opentelemetry.trace import Span, SpanKind

from casefold_events.backoff import Backoff, jittered
from casefold_events.dead_letters import default_dead_letter_topic
from casefold_events.envelope import DecodeError, Envelope, decode
from casefold_events.loops import BackgroundLoop
from casefold_events.metrics import CONSUMER_LAG, DEAD_LETTERS, DEAD_LETTERS_PARKED
from casefold_events.tracecontext import extract_context, get_tracer, kafka_attributes, kafka_position
from casefold_events.transient import TRANSIENT, TransientError

__all__ = ["ConsumerRunner", "Handler", "TransientError"]

log = structlog.get_logger("casefold.consumer")

Handler = Callable[[asyncpg.Connection, Envelope], Awaitable[None]]

RECORD = "INSERT INTO inbox (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1"
PARK = """
    INSERT INTO dead_letters (consumer, source_topic, source_partition, source_offset, target_topic, message_key,
                              value, header_names, header_values, error, refused_by_kafka)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
    ON CONFLICT (consumer, source_topic, source_partition, source_offset) DO NOTHING
"""
# The broker's final word on a message: retrying the same send can never succeed.
REFUSED_FOR_GOOD: tuple[type[KafkaError], ...] = (
    MessageSizeTooLargeError,
    RecordTooLargeError,
    TopicAuthorizationFailedError,
    InvalidTopicError,
)


@dataclass
class Progress:
    """The offset of the last record of a partition's fetch that was handled (None: none yet)."""

    done: int | None = None


class _Stopping(Exception):
    """Shutdown was asked for while a message was still being retried: leave it uncommitted."""


class ConsumerRunner(BackgroundLoop):
    """Consumes topics in the consumer group `name` and hands each new event to handler.

    stop() is prompt: a retry's backoff (up to backoff_max) is cut short, the message in hand stays uncommitted.

    What a subclass may override or call (everything else, the underscored names, is the runner's own):
    - handle_records(records, progress): handle one partition's fetch, in order, noting each handled offset in
      progress (override to batch; the default calls handle_record for each record);
    - handle_record(record): the one-by-one path, inbox and handler in one transaction, transient failures waited
      out, others retried then dead-lettered (or parked); call it for what a faster path could not handle;
    - processing_span(record, envelope): the CONSUMER span (child of the producer's) to handle an event in;
    - commit_offset(consumer, tp, offset): when a partition's next offset is committed (override to defer it);
    - commit_offset_now(consumer, tp, offset): the commit itself; a refused commit (a rebalance) is logged, not
      raised;
    - fetch_max_records, and the counters handled, dead_lettered, parked.
    """

    def __init__(
        self,
        name: str,
        bootstrap_servers: str,
        topics: Sequence[str],
        pool: asyncpg.Pool,
        handler: Handler,
        *,
        dead_letter_topic: str | None = None,
        dead_letter_topics: Mapping[str, str] | None = None,
        max_attempts: int = 5,
        dead_letter_budget: float = 300.0,
        backoff_initial: float = 0.1,
        backoff_max: float = 30.0,
        consumer_options: dict[str, Any] | None = None,
        client_options: dict[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.bootstrap_servers = bootstrap_servers
        self.topics = list(topics)
        self.pool = pool
        self.handler = handler
        self.dead_letter_topic = dead_letter_topic or default_dead_letter_topic(name)
        # Per source topic: a private topic's failures must not land on a dead-letter topic others may read.
        self.dead_letter_topics = dict(dead_letter_topics or {})
        self.max_attempts = max_attempts
        # How long a dead-letter send is retried (a broker outage) before the message is parked in the database.
        self.dead_letter_budget = dead_letter_budget
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.consumer_options = consumer_options or {}
        self.client_options = client_options or {}  # both clients: security (SASL) settings
        self.handled = 0
        self.dead_lettered = 0
        self.parked = 0
        self.task_name = f"consumer-{name}"
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self._positions: dict[TopicPartition, int] = {}
        super().__init__()
        self.assigned = asyncio.Event()

    async def start(self) -> None:
        self._consumer = AIOKafkaConsumer(
            *self.topics,
            bootstrap_servers=self.bootstrap_servers,
            group_id=self.name,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            **self.client_options,
            **self.consumer_options,
        )
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap_servers, acks="all", enable_idempotence=True, **self.client_options
        )
        await self._consumer.start()
        await self._producer.start()
        await super().start()

    async def stop(self) -> None:
        """Finish (or abandon, uncommitted) the message in hand, commit what was handled, leave the group."""
        await super().stop()
        if self._consumer is not None:
            await self._consumer.stop()
        if self._producer is not None:
            await self._producer.stop()

    # The most records one fetch brings (from all partitions).
    fetch_max_records = 200

    async def run(self) -> None:
        consumer = self._consumer
        assert consumer is not None
        while not self.stopping:
            self.beat()
            try:
                batches = await consumer.getmany(timeout_ms=500, max_records=self.fetch_max_records)
            except KafkaError as exc:
                log.warning("consumer_fetch_failed", consumer=self.name, error=type(exc).__name__)
                await self.pause(jittered(1.0), wakeable=False)
                continue
            if consumer.assignment():
                self.assigned.set()
            for tp, records in batches.items():
                progress = Progress()
                try:
                    await self.handle_records(records, progress)
                except _Stopping:
                    pass
                finally:
                    if progress.done is not None:
                        self._positions[tp] = progress.done + 1
                        await self.commit_offset(consumer, tp, progress.done + 1)
                if self.stopping:
                    break
            self._observe_lag(consumer)

    async def handle_records(self, records: Sequence[ConsumerRecord[Any, Any]], progress: Progress) -> None:
        """Handle one partition's fetched records in order, noting in progress the offset of each one handled (its
        offset is committed, even when a later one stops the runner). One by one here; a subclass may batch."""
        for record in records:
            await self.handle_record(record)
            progress.done = record.offset

    async def commit_offset(self, consumer: AIOKafkaConsumer, tp: TopicPartition, offset: int) -> None:
        """Commit the partition's next offset once what is before it is durable (a subclass may defer it)."""
        await self.commit_offset_now(consumer, tp, offset)

    async def commit_offset_now(self, consumer: AIOKafkaConsumer, tp: TopicPartition, offset: int) -> None:
        """Commit the partition's next offset now; a refused commit is logged, never raised."""
        try:
            await consumer.commit({tp: offset})
        except KafkaError as exc:
            # A rebalance took the partition away: the new owner redelivers, the inbox makes that a no-op.
            log.warning("consumer_commit_failed", consumer=self.name, error=type(exc).__name__)

    def _observe_lag(self, consumer: AIOKafkaConsumer) -> None:
        for tp in consumer.assignment():
            end, position = consumer.highwater(tp), self._positions.get(tp)
            if end is not None and position is not None:
                CONSUMER_LAG.labels(self.name, tp.topic, str(tp.partition)).set(max(0, end - position))

    async def handle_record(self, record: ConsumerRecord[Any, Any]) -> None:
        """Handle one record by the shared path: a non-envelope is dead-lettered at once; an envelope new to the inbox
        goes to the handler in the inbox row's transaction, transient failures are waited out, others retried
        max_attempts times and then dead-lettered. When stop() cuts a retry short it raises an exception the caller
        lets through to run(): the record stays unhandled and uncommitted."""
        try:
            envelope = decode(record.value or b"")
        except DecodeError as exc:
            await self._dead_letter(record, exc)
            return
        attempts = 0
        backoff = Backoff(self.backoff_initial, self.backoff_max)
        with self.processing_span(record, envelope):
            while True:
                try:
                    async with self.pool.acquire() as conn, conn.transaction():
                        if await conn.fetchval(RECORD, self.name, envelope.event_id):
                            await self.handler(conn, envelope)
                    self.handled += 1
                    return
                except TRANSIENT as exc:
                    log.warning("consumer_transient_failure", consumer=self.name, event_id=str(envelope.event_id),
                                error=type(exc).__name__)  # fmt: skip
                except Exception as exc:
                    attempts += 1
                    log.warning("consumer_handler_failed", consumer=self.name, event_id=str(envelope.event_id),
                                attempt=attempts, error=type(exc).__name__, detail=str(exc)[:300])  # fmt: skip
                    if attempts >= self.max_attempts:
                        await self._dead_letter(record, exc)
                        return
                if await self.pause(backoff.next(), wakeable=False):
                    raise _Stopping

    async def _park(
        self, record: ConsumerRecord[Any, Any], target: str, headers: list[tuple[str, bytes]], refusal: Exception
    ) -> None:
        """Keep a dead letter Kafka will not take in the database; retried while the database is down."""
        why = f"{type(refusal).__name__}: {refusal}"[:1000]
        error = dict(headers)["dlq.error"].decode()
        backoff = Backoff(self.backoff_initial, self.backoff_max)
        while True:
            try:
                await self.pool.execute(PARK, self.name, record.topic, record.partition, record.offset, target,
                                        record.key, record.value, [h[0] for h in headers], [h[1] for h in headers],
                                        error, why)  # fmt: skip
                break
            except TRANSIENT as exc:
                log.warning("consumer_park_failed", consumer=self.name, error=type(exc).__name__)
                if await self.pause(backoff.next(), wakeable=False):
                    raise _Stopping from None
        self.parked += 1
        DEAD_LETTERS_PARKED.labels(self.name).inc()
        log.error("consumer_dead_letter_parked", consumer=self.name, source=f"{record.topic}/{record.offset}",
                  topic=target, refused=why)  # fmt: skip

    def processing_span(self, record: ConsumerRecord[Any, Any], envelope: Envelope) -> AbstractContextManager[Span]:
        """A CONSUMER span to handle the event in, child of the relay's PRODUCER span (its traceparent is in the
        headers)."""
        attributes: dict[str, str | int] = {
            **kafka_attributes("process", record.topic, record.key, envelope.event_id),
            **kafka_position(record.partition, record.offset),
            "messaging.consumer.group.name": self.name,
        }
        return get_tracer().start_as_current_span(f"process {record.topic}", context=extract_context(record.headers),
                                                  kind=SpanKind.CONSUMER, attributes=attributes)  # fmt: skip

    async def _dead_letter(self, record: ConsumerRecord[Any, Any], error: BaseException) -> None:
        """Put the message, as received, on the dead-letter topic with why; retried while the broker may yet take
        it, parked in the dead_letters table once it refused for good."""
        producer = self._producer
        assert producer is not None
        headers = [
            *(record.headers or ()),
            ("dlq.error", f"{type(error).__name__}: {error}"[:1000].encode()),
            ("dlq.source", f"{record.topic}/{record.partition}/{record.offset}".encode()),
            ("dlq.consumer", self.name.encode()),
        ]
        target = self.dead_letter_topics.get(record.topic, self.dead_letter_topic)
        backoff = Backoff(self.backoff_initial, self.backoff_max)
        give_up_at = time.monotonic() + self.dead_letter_budget
        while True:
            try:
                # One send may wait a minute for metadata (an unknown or invalid topic): the budget bounds it too.
                async with asyncio.timeout(max(give_up_at - time.monotonic(), 1.0)):
                    await producer.send_and_wait(target, record.value, key=record.key, headers=headers)
                break
            except (KafkaError, TimeoutError) as exc:
                if isinstance(exc, REFUSED_FOR_GOOD) or time.monotonic() >= give_up_at:
                    await self._park(record, target, headers, exc)
                    break
                log.warning("consumer_dead_letter_retrying", consumer=self.name, topic=target,
                            error=type(exc).__name__)  # fmt: skip
                if await self.pause(backoff.next(), wakeable=False):
                    raise _Stopping from None
        self.dead_lettered += 1
        DEAD_LETTERS.labels(self.name).inc()
        log.error("consumer_dead_lettered", consumer=self.name, source=f"{record.topic}/{record.offset}",
                  error=type(error).__name__)  # fmt: skip
