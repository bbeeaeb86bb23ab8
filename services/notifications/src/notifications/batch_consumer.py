"""The notifications consumer: the shared ConsumerRunner, handling what one fetch brought in ONE transaction.

One transaction (and one commit) per event was the ceiling of mail throughput. Here a partition's fetched records
are handled in batches: the inbox rows of a batch are recorded in one statement, the handler runs for each new event
in order on the same connection (a CommentAdded sees the CaseOpened just before it), the batch commits once, and the
Kafka offset is committed only after that (while the next batch is handled: its round trip holds nothing up).
Per-event idempotency is unchanged: an event already in the inbox, or a second copy of one in the same batch, is
skipped, and the emails' unique Message-ID stands behind the inbox.

When anything in a batch fails, the batch is rolled back whole and its records are handled one by one by the shared
runner's own path: transient failures waited out, others retried and then dead-lettered. So a poison message costs
its batch the fast path, nothing else, and it is dead-lettered exactly as before. A record that is not an envelope
at all goes straight to that path (to its dead-letter topic) between batches, in its place in the partition.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, TypeAlias

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from casefold_events.consumer import ConsumerRunner, Progress
from casefold_events.envelope import DecodeError, Envelope, decode

log = structlog.get_logger("notifications.consumer")

Record: TypeAlias = "ConsumerRecord[Any, Any]"

RECORD_MANY = """
INSERT INTO inbox (consumer, event_id) SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING RETURNING event_id
"""


class BatchConsumer(ConsumerRunner):
    """A ConsumerRunner whose unit of work is a batch of at most `batch_size` records of one partition."""

    def __init__(self, *args: Any, batch_size: int = 100, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # One fetch returns as soon as anything was fetched: its size is a batch's.
        self.fetch_max_records = self.batch_size = batch_size
        self.fallbacks = 0  # batches handled one by one after a failure
        self._committing: asyncio.Task[None] | None = None

    async def run(self) -> None:
        try:
            await super().run()
        finally:
            await self._committed()

    async def commit_offset(self, consumer: AIOKafkaConsumer, tp: TopicPartition, offset: int) -> None:
        """Commit the offset of what is durable while the next batch is handled: the broker's round trip no longer
        holds up the next event. One commit in flight at a time, in order."""
        await self._committed()
        self._committing = asyncio.create_task(self.commit_offset_now(consumer, tp, offset))

    async def _committed(self) -> None:
        committing, self._committing = self._committing, None
        if committing is not None:
            await committing

    async def handle_records(self, records: Sequence[Record], progress: Progress) -> None:
        """Handle records of one partition, in order, in batches; progress notes the last one handled."""
        progress.done = await self.handle_batch(records)

    async def handle_batch(self, records: Sequence[Record]) -> int | None:
        """Handle records of one partition, in order; the offset of the last one handled (None: none was)."""
        done: int | None = None
        run: list[tuple[Record, Envelope]] = []
        for record in records:
            try:
                run.append((record, decode(record.value or b"")))
            except DecodeError:
                done = await self._flush(run, done)
                run = []
                await self.handle_record(record)  # dead-lettered by the shared path, in its place
                done = record.offset
        return await self._flush(run, done)

    async def _flush(self, run: list[tuple[Record, Envelope]], done: int | None) -> int | None:
        if not run:
            return done
        try:
            await self._in_one_transaction(run)
        except Exception as exc:  # the one-by-one path below retries, waits out or dead-letters it
            self.fallbacks += 1
            log.warning("consumer_batch_failed", consumer=self.name, records=len(run), error=type(exc).__name__,
                        detail=str(exc)[:300])  # fmt: skip
            for record, _ in run:
                await self.handle_record(record)
                done = record.offset
            return done
        last: int = run[-1][0].offset
        return last

    async def _in_one_transaction(self, run: list[tuple[Record, Envelope]]) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            new = {r["event_id"] for r in await conn.fetch(RECORD_MANY, self.name, [e.event_id for _, e in run])}
            for record, envelope in run:
                # A CONSUMER span per event, child of the relay's PRODUCER span, as on the one-by-one path.
                with self.processing_span(record, envelope):
                    if envelope.event_id in new:
                        new.discard(envelope.event_id)  # a second copy in this batch is a redelivery too
                        await self.handler(conn, envelope)
        self.handled += len(run)
