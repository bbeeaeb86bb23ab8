"""The consumer runner every service uses: inbox-deduplicated handling, retries, dead letters, lag.

For each message: decode the envelope; in ONE database transaction record (consumer, event_id) in the inbox and,
if it was new, call the handler; commit the Kafka offset only after that transaction. A redelivery finds the
inbox row and does nothing. Transient failures (database or network down, TransientError) are retried with
capped exponential backoff for as long as they last: they delay work and lose none. Any other failure is retried
`max_attempts` times, then the message goes to the dead-letter topic `<name>.dlq` with the error in its headers,
so one poison message never blocks the partition for ever and is never dropped silently.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from opentelemetry.trace import SpanKind

from casefold_events.backoff import Backoff, jittered
from casefold_events.envelope import DecodeError, Envelope, decode
from casefold_events.loops import BackgroundLoop
from casefold_events.metrics import CONSUMER_LAG, DEAD_LETTERS
from casefold_events.tracecontext import extract_context, get_tracer, kafka_attributes, kafka_position
from casefold_events.transient import TRANSIENT, TransientError

__all__ = ["ConsumerRunner", "Handler", "TransientError"]

log = structlog.get_logger("casefold.consumer")

Handler = Callable[[asyncpg.Connection, Envelope], Awaitable[None]]

RECORD = "INSERT INTO inbox (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1"


class _Stopping(Exception):
    """Shutdown was asked for while a message was still being retried: leave it uncommitted."""


class ConsumerRunner(BackgroundLoop):
    """Consumes topics in the consumer group `name` and hands each new event to handler.

    stop() is prompt: a retry's backoff (up to backoff_max) is cut short, the message in hand stays uncommitted.
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
        self.dead_letter_topic = dead_letter_topic or f"{name}.dlq"
        # Per source topic: a private topic's failures must not land on a dead-letter topic others may read.
        self.dead_letter_topics = dict(dead_letter_topics or {})
        self.max_attempts = max_attempts
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.consumer_options = consumer_options or {}
        self.client_options = client_options or {}  # both clients: security (SASL) settings
        self.handled = 0
        self.dead_lettered = 0
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

    async def run(self) -> None:
        consumer = self._consumer
        assert consumer is not None
        while not self.stopping:
            try:
                batches = await consumer.getmany(timeout_ms=500, max_records=200)
            except KafkaError as exc:
                log.warning("consumer_fetch_failed", consumer=self.name, error=type(exc).__name__)
                await self.pause(jittered(1.0), wakeable=False)
                continue
            if consumer.assignment():
                self.assigned.set()
            for tp, records in batches.items():
                done: int | None = None
                try:
                    for record in records:
                        await self._handle(record)
                        done = record.offset
                except _Stopping:
                    pass
                finally:
                    if done is not None:
                        self._positions[tp] = done + 1
                        await self._commit(consumer, tp, done + 1)
                if self.stopping:
                    break
            self._observe_lag(consumer)

    async def _commit(self, consumer: AIOKafkaConsumer, tp: TopicPartition, offset: int) -> None:
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

    async def _handle(self, record: ConsumerRecord[Any, Any]) -> None:
        try:
            envelope = decode(record.value or b"")
        except DecodeError as exc:
            await self._dead_letter(record, exc)
            return
        attempts = 0
        backoff = Backoff(self.backoff_initial, self.backoff_max)
        # A CONSUMER span, child of the relay's PRODUCER span (its traceparent is in the headers).
        with get_tracer().start_as_current_span(
            f"process {record.topic}",
            context=extract_context(record.headers),
            kind=SpanKind.CONSUMER,
            attributes=self._span_attrs(record, envelope),
        ):
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

    def _span_attrs(self, record: ConsumerRecord[Any, Any], envelope: Envelope) -> dict[str, str | int]:
        return {
            **kafka_attributes("process", record.topic, record.key, envelope.event_id),
            **kafka_position(record.partition, record.offset),
            "messaging.consumer.group.name": self.name,
        }

    async def _dead_letter(self, record: ConsumerRecord[Any, Any], error: BaseException) -> None:
        """Park the message, as received, on the dead-letter topic with why; retried until the broker takes it."""
        producer = self._producer
        assert producer is not None
        headers = [
            *(record.headers or ()),
            ("dlq.error", f"{type(error).__name__}: {error}"[:1000].encode()),
            ("dlq.source", f"{record.topic}/{record.partition}/{record.offset}".encode()),
            ("dlq.consumer", self.name.encode()),
        ]
        backoff = Backoff(self.backoff_initial, self.backoff_max)
        while True:
            try:
                target = self.dead_letter_topics.get(record.topic, self.dead_letter_topic)
                await producer.send_and_wait(target, record.value, key=record.key, headers=headers)
                break
            except KafkaError:
                if await self.pause(backoff.next(), wakeable=False):
                    raise _Stopping from None
        self.dead_lettered += 1
        DEAD_LETTERS.labels(self.name).inc()
        log.error("consumer_dead_lettered", consumer=self.name, source=f"{record.topic}/{record.offset}",
                  error=type(error).__name__)  # fmt: skip
