"""The outbox relay: publishes committed outbox rows to Kafka, then marks them.

- One active relay per database: the leader holds a session-level advisory lock on its connection; a standby
  polls for the lock and takes over within `standby_poll` seconds when the leader's connection goes away.
- Woken by LISTEN/NOTIFY (append notifies in its transaction, so the wake-up comes at commit) and by polling as a
  safety net (a notification can be lost while the connection is down).
- Rows are marked published only after the broker acknowledged them (acks=all, idempotent producer). A crash in
  between republishes them: at-least-once delivery; consumers deduplicate by event id.
- Published rows are purged after `keep_published` (they may carry private links).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import timedelta
from typing import Any

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.structs import RecordMetadata
from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode

from casefold_events import locks
from casefold_events.backoff import Backoff
from casefold_events.envelope import encode, message_headers
from casefold_events.loops import BackgroundLoop
from casefold_events.metrics import OUTBOX_BACKLOG, RELAY_LAG_SECONDS
from casefold_events.store.eventstore import OUTBOX_CHANNEL
from casefold_events.store.rows import envelope_from_row
from casefold_events.tracecontext import (
    context_from_traceparent,
    current_traceparent,
    get_tracer,
    kafka_attributes,
    kafka_position,
)

log = structlog.get_logger("casefold.relay")

LEADER_LOCK = locks.RELAY_LEADER.key
# An outbox row is either a queued message (value set) or a slice of one stream's events (see migration 0004),
# joined here and published in version order.
FETCH = """
    SELECT o.id, o.topic, o.message_key, o.value,
           coalesce(e.event_id, o.event_id) AS event_id, coalesce(e.event_type, o.event_type) AS event_type,
           coalesce(e.schema_version, o.schema_version) AS schema_version,
           coalesce(e.traceparent, o.traceparent) AS traceparent,
           e.stream_id, e.stream_type, e.stream_version, e.occurred_at, e.actor_id, e.actor_role, e.correlation_id,
           e.causation_id, e.payload::text AS payload
    FROM (SELECT * FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT $1) AS o
    LEFT JOIN events e
        ON o.value IS NULL AND e.stream_id = o.stream_id AND e.stream_version BETWEEN o.first_version AND o.last_version
    ORDER BY o.id, e.stream_version
"""
MARK = "UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])"
BACKLOG = """
    SELECT count(*) AS backlog, coalesce(extract(epoch FROM now() - min(created_at)), 0) AS lag
    FROM outbox WHERE published_at IS NULL
"""
PURGE = "DELETE FROM outbox WHERE published_at < now() - $1::interval"

# Larger batches than aiokafka's 16 KiB default: an envelope is ~1 KB, and fewer produce requests per row matter.
PRODUCER_DEFAULTS: dict[str, Any] = {"linger_ms": 5, "max_batch_size": 256 * 1024}

RETRYABLE = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, KafkaError, TimeoutError)


class OutboxRelay(BackgroundLoop):
    """Publishes one database's outbox to Kafka. start() returns at once; stop() finishes the current batch."""

    def __init__(
        self,
        dsn: str,
        bootstrap_servers: str,
        name: str,
        *,
        batch_size: int = 500,
        poll_interval: float = 1.0,
        standby_poll: float = 2.0,
        keep_published: timedelta = timedelta(hours=1),
        producer_options: dict[str, Any] | None = None,
    ) -> None:
        self.dsn = dsn
        self.bootstrap_servers = bootstrap_servers
        self.name = name
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.standby_poll = standby_poll
        self.keep_published = keep_published
        self.producer_options = producer_options or {}
        self.published = 0
        self.is_leader = False
        self.task_name = f"outbox-relay-{name}"
        super().__init__()

    async def run(self) -> None:
        backoff = Backoff(0.2, 10.0)
        while not self.stopping:
            try:
                await self._lead_once()
                backoff.reset()
            except RETRYABLE as exc:
                log.warning("relay_retrying", relay=self.name, error=type(exc).__name__, detail=str(exc)[:200])
                await self.pause(backoff.next(), wakeable=False)

    async def _lead_once(self) -> None:
        conn: asyncpg.Connection = await asyncpg.connect(self.dsn, timeout=10)
        try:
            while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", LEADER_LOCK):
                if await self.pause(self.standby_poll, wakeable=False):
                    return
            self.is_leader = True
            log.info("relay_leading", relay=self.name)
            await conn.add_listener(OUTBOX_CHANNEL, self.wake)
            producer = AIOKafkaProducer(
                bootstrap_servers=self.bootstrap_servers,
                acks="all",
                enable_idempotence=True,
                **{**PRODUCER_DEFAULTS, **self.producer_options},
            )
            await producer.start()
            try:
                await self._pump(conn, producer)
            finally:
                await producer.stop()
        finally:
            self.is_leader = False
            # Closing the session releases the advisory lock: a standby takes over.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), 5)

    async def _pump(self, conn: asyncpg.Connection, producer: AIOKafkaProducer) -> None:
        last_housekeeping = 0.0
        while not self.stopping:
            self._wake.clear()
            sent = await self.publish_batch(conn, producer)
            if time.monotonic() - last_housekeeping > 5:
                await self._housekeeping(conn)
                last_housekeeping = time.monotonic()
            if sent < self.batch_size:
                await self.pause(self.poll_interval)

    async def publish_batch(self, conn: asyncpg.Connection, producer: AIOKafkaProducer) -> int:
        """Publish up to batch_size outbox rows (their messages in order) and mark them; returns how many rows."""
        rows = await conn.fetch(FETCH, self.batch_size)
        if not rows:
            return 0
        sent: list[tuple[trace.Span, asyncio.Future[RecordMetadata]]] = []
        try:
            for row in rows:
                sent.append(await self._send(producer, row))
        except BaseException as exc:  # the producer refused one: the spans of those sent before end failed too
            _end_spans([span for span, _ in sent], [exc] * len(sent))
            raise
        # Every send acknowledged (acks=all) before anything is marked.
        results = await asyncio.gather(*(ack for _, ack in sent), return_exceptions=True)
        _end_spans([span for span, _ in sent], results)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        await self._mark(conn, sorted({r["id"] for r in rows}))
        self.published += len(rows)
        return len({r["id"] for r in rows})

    async def _send(
        self, producer: AIOKafkaProducer, row: asyncpg.Record
    ) -> tuple[trace.Span, asyncio.Future[RecordMetadata]]:
        """Queue one message under a PRODUCER span, child of the request that appended it; the message carries this
        span's traceparent, so the consumer's span is the publish span's child. The span ends at the broker's ack."""
        span = get_tracer().start_span(
            f"send {row['topic']}",
            context=context_from_traceparent(row["traceparent"]),
            kind=SpanKind.PRODUCER,
            attributes=kafka_attributes("send", row["topic"], row["message_key"], row["event_id"]),
        )
        try:
            with trace.use_span(span, end_on_exit=False):
                traceparent = current_traceparent() or row["traceparent"]
            headers = message_headers(row["event_type"], row["event_id"], row["schema_version"], traceparent)
            value = row["value"].encode() if row["value"] is not None else encode(envelope_from_row(row))
            ack = await producer.send(row["topic"], value, key=row["message_key"].encode(), headers=headers)
        except BaseException as exc:
            _end_spans([span], [exc])
            raise
        return span, ack

    async def _mark(self, conn: asyncpg.Connection, ids: list[int]) -> None:
        await conn.execute(MARK, ids)

    async def _housekeeping(self, conn: asyncpg.Connection) -> None:
        row = await conn.fetchrow(BACKLOG)
        if row is not None:
            OUTBOX_BACKLOG.set(row["backlog"])
            RELAY_LAG_SECONDS.set(float(row["lag"]))
        await conn.execute(PURGE, self.keep_published)


def _end_spans(spans: list[trace.Span], results: list[RecordMetadata | BaseException]) -> None:
    for span, result in zip(spans, results, strict=True):
        if isinstance(result, BaseException):
            span.record_exception(result)
            span.set_status(StatusCode.ERROR, type(result).__name__)
        else:
            span.set_attributes(kafka_position(result.partition, result.offset))
        span.end()
