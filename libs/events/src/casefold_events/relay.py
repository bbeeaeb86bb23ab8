"""The outbox relay: publishes committed outbox rows to Kafka, then marks them.

- One active relay per database: the leader holds a session-level advisory lock on its connection; a standby
  polls for the lock and takes over within `standby_poll` seconds when the leader's connection goes away.
- A leader whose connection goes silent (half-open, a partition) does not keep the lock: its every command has a
  deadline (`command_timeout`), and the server ends its session once it has said nothing for `lock_idle_timeout`
  (idle_session_timeout; the leader polls every `poll_interval`, so a live leader is never that quiet), which
  releases the lock; TCP keepalives on both ends catch a vanished peer (casefold_events.pools).
- Woken by LISTEN/NOTIFY (append notifies in its transaction, so the wake-up comes at commit) and by polling as a
  safety net (a notification can be lost while the connection is down).
- Rows are marked published only after the broker acknowledged them (acks=all, idempotent producer). A crash in
  between republishes them: at-least-once delivery; consumers deduplicate by event id. When Kafka refuses one
  message, the acknowledged rows of the batch are marked all the same, except the later rows of the refused row's
  key (they are published again after it, in order).
- A batch is claimed in one statement, its messages queued without waiting for each, the acks awaited together, and
  the acknowledged rows marked in one statement (without waiting for the WAL flush: see RELAY_SESSION).
- Published rows are purged after `keep_published` (they may carry private links).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from datetime import timedelta
from itertools import zip_longest
from typing import Any

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.structs import RecordMetadata
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import SpanKind, StatusCode

from casefold_events import locks, pools
from casefold_events.backoff import Backoff
from casefold_events.envelope import message_headers
from casefold_events.loops import BackgroundLoop
from casefold_events.metrics import OUTBOX_BACKLOG, RELAY_LAG_SECONDS
from casefold_events.store.eventstore import OUTBOX_CHANNEL
from casefold_events.tracecontext import (
    context_from_traceparent,
    get_tracer,
    kafka_attributes,
    kafka_position,
    traceparent_of,
)

log = structlog.get_logger("casefold.relay")

LEADER_LOCK = locks.RELAY_LEADER.key
# An outbox row is either a queued message (value set) or a slice of one stream's events (see migration 0004),
# joined here and published in version order. A stored event's envelope is built by PostgreSQL from its columns
# (json_build_object, the payload's jsonb as is): the relay parses and re-serialises nothing, and its Python time
# per message is the send itself. The keys and types are Envelope's (decode() validates them on the consumer side);
# the timestamp is ISO 8601 with its offset (the relay's session runs in UTC).
FETCH = """
    SELECT o.id, o.topic, o.message_key,
           coalesce(e.event_id, o.event_id) AS event_id, coalesce(e.event_type, o.event_type) AS event_type,
           coalesce(e.schema_version, o.schema_version) AS schema_version,
           coalesce(e.traceparent, o.traceparent) AS traceparent,
           coalesce(o.value, json_build_object(
               'event_id', e.event_id, 'event_type', e.event_type, 'schema_version', e.schema_version,
               'stream_id', e.stream_id, 'stream_type', e.stream_type, 'stream_version', e.stream_version,
               'occurred_at', e.occurred_at, 'actor', json_build_object('user_id', e.actor_id, 'role', e.actor_role),
               'correlation_id', e.correlation_id, 'causation_id', e.causation_id, 'traceparent', e.traceparent,
               'payload', e.payload)::text) AS value
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
# No linger: a round queues all its rows before it yields to the producer's sender, so they are batched anyway,
# and a linger only delayed every message (5 ms of linger measured 10 ms more commit -> consumed at p50).
PRODUCER_DEFAULTS: dict[str, Any] = {"linger_ms": 0, "max_batch_size": 256 * 1024}

# The relay's session: UTC for the envelopes' timestamps (see FETCH), and marks that do not wait for the WAL flush.
# A mark lost with a database crash (the last few hundred milliseconds of commits) only republishes rows Kafka
# already has, which at-least-once delivery allows (consumers deduplicate by event id); a mark is never written
# before the ack either way. Waiting for the flush held the next batch, and so the next commit's publication, behind
# a disk sync: up to 600 ms on a busy disk, measured.
RELAY_SESSION = {"TimeZone": "UTC", "synchronous_commit": "off"}

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
        command_timeout: float = 30.0,
        lock_idle_timeout: float = 60.0,
    ) -> None:
        self.dsn = dsn
        self.bootstrap_servers = bootstrap_servers
        self.name = name
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.standby_poll = standby_poll
        self.keep_published = keep_published
        self.producer_options = producer_options or {}
        self.command_timeout = command_timeout
        self.lock_idle_timeout = lock_idle_timeout
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
        idle_ms = str(int(self.lock_idle_timeout * 1000))
        conn = await pools.connect(
            self.dsn,
            command_timeout=self.command_timeout,
            server_settings=RELAY_SESSION | {"idle_session_timeout": idle_ms},
        )
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
            self.beat()
            self._wake.clear()
            sent = await self.publish_batch(conn, producer)
            if time.monotonic() - last_housekeeping > 5:
                await self._housekeeping(conn)
                last_housekeeping = time.monotonic()
            if sent < self.batch_size:
                await self.pause(self.poll_interval)

    async def publish_batch(self, conn: asyncpg.Connection, producer: AIOKafkaProducer) -> int:
        """Publish up to batch_size outbox rows (their messages in order) and mark the acknowledged ones in one
        statement; returns how many rows were marked. Raises the first refusal after marking what was acked."""
        rows = await conn.fetch(FETCH, self.batch_size)
        if not rows:
            return 0
        tracer, parents = get_tracer(), _Parents()
        sent: list[tuple[trace.Span, asyncio.Future[RecordMetadata]]] = []
        refused: BaseException | None = None
        # Every message is queued without waiting for the broker (the producer batches them per partition), then
        # the acks are awaited together: one round of produce requests per batch, not one per message.
        for row in rows:
            try:
                sent.append(await self._send(producer, tracer, parents, row))
            except KafkaError as exc:  # refused before it was queued (too large, say): queue nothing after it
                refused = exc
                break
            except BaseException as exc:
                _end_spans([span for span, _ in sent], [exc] * len(sent))
                raise
        # Nothing is marked before the broker acknowledged it (acks=all).
        results: list[RecordMetadata | BaseException] = await asyncio.gather(
            *(ack for _, ack in sent), return_exceptions=True
        )
        _end_spans([span for span, _ in sent], results)
        acked = acknowledged_rows(rows, results)
        if acked:
            await self._mark(conn, acked)
            marked = set(acked)
            self.published += sum(1 for row in rows if row["id"] in marked)  # messages, not rows
        failure = refused or next((r for r in results if isinstance(r, BaseException)), None)
        if failure is not None:
            log.warning("relay_refused", relay=self.name, marked=len(acked), rows=len({r["id"] for r in rows}),
                        error=type(failure).__name__)  # fmt: skip
            raise failure
        return len(acked)

    async def _send(
        self, producer: AIOKafkaProducer, tracer: trace.Tracer, parents: _Parents, row: asyncpg.Record
    ) -> tuple[trace.Span, asyncio.Future[RecordMetadata]]:
        """Queue one message under a PRODUCER span, child of the request that appended it; the message carries this
        span's traceparent, so the consumer's span is the publish span's child. The span ends at the broker's ack."""
        span = tracer.start_span(
            f"send {row['topic']}",
            context=parents.of(row["traceparent"]),
            kind=SpanKind.PRODUCER,
            attributes=kafka_attributes("send", row["topic"], row["message_key"], row["event_id"]),
        )
        try:
            traceparent = traceparent_of(span) or row["traceparent"]
            headers = message_headers(row["event_type"], row["event_id"], row["schema_version"], traceparent)
            ack = await producer.send(row["topic"], row["value"].encode(), key=row["message_key"].encode(),
                                      headers=headers)  # fmt: skip
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


class _Parents:
    """The parent contexts of one batch's spans, parsed once per traceparent (the events of one append share it)."""

    def __init__(self) -> None:
        self._seen: dict[str | None, Context] = {}

    def of(self, traceparent: str | None) -> Context:
        context = self._seen.get(traceparent)
        if context is None:
            context = self._seen[traceparent] = context_from_traceparent(traceparent)
        return context


def acknowledged_rows(rows: Sequence[asyncpg.Record], results: Sequence[object]) -> list[int]:
    """The ids of the rows safe to mark, in order: every message of the row acknowledged (the messages past the end
    of results were never queued), and no earlier row of the same topic and key failed. A later row of a failed key
    stays unpublished even when acked, so the key's messages go out again in their order (consumers deduplicate
    by event id)."""
    failed = {
        row["id"]
        for row, result in zip_longest(rows, results[: len(rows)])
        if result is None or isinstance(result, BaseException)
    }
    blocked: set[tuple[str, str]] = set()
    seen: set[int] = set()
    acked: list[int] = []
    for row in rows:
        row_id, key = row["id"], (row["topic"], row["message_key"])
        if row_id in seen:
            continue  # the next message of the same slice
        seen.add(row_id)
        if row_id in failed or key in blocked:
            blocked.add(key)
        else:
            acked.append(row_id)
    return acked


def _end_spans(spans: list[trace.Span], results: list[RecordMetadata | BaseException]) -> None:
    for span, result in zip(spans, results, strict=True):
        if isinstance(result, BaseException):
            span.record_exception(result)
            span.set_status(StatusCode.ERROR, type(result).__name__)
        else:
            span.set_attributes(kafka_position(result.partition, result.offset))
        span.end()
