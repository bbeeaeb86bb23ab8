"""The outbox relay on real PostgreSQL and Kafka: order, headers, crash between publish and mark, takeover."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence

import asyncpg
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from aiokafka.errors import KafkaError
from events_builders import META, comment

from casefold_events.envelope import RecordedEvent, decode
from casefold_events.relay import PRODUCER_DEFAULTS, OutboxRelay
from casefold_events.store import NO_STREAM, EventStore
from casefold_testing.kafka import topic_taking_at_most

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
async def _empty_outbox(pool: asyncpg.Pool) -> None:
    await pool.execute("UPDATE outbox SET published_at = now() WHERE published_at IS NULL")


async def _append(pool: asyncpg.Pool, store: EventStore, streams: int, per_stream: int) -> list[RecordedEvent]:
    written: list[RecordedEvent] = []
    for _ in range(streams):
        stream = str(uuid.uuid4())
        for v in range(per_stream):
            async with pool.acquire() as conn, conn.transaction():
                written += await store.append(conn, stream, "thread", [comment()], expected_version=v or NO_STREAM,
                                              metadata=META)  # fmt: skip
    return written


async def _read(bootstrap: str, topic: str, at_least: int) -> list[ConsumerRecord[bytes, bytes]]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    try:
        async with asyncio.timeout(30):
            while len(records) < at_least:
                batch = await consumer.getmany(timeout_ms=300)
                records += [r for rs in batch.values() for r in rs]
        batch = await consumer.getmany(timeout_ms=500)  # and whatever else is there (duplicates)
        records += [r for rs in batch.values() for r in rs]
    finally:
        await consumer.stop()
    return records


async def _wait_published(pool: asyncpg.Pool) -> None:
    async with asyncio.timeout(30):
        while await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL"):
            await asyncio.sleep(0.05)


def _ids(records: Sequence[ConsumerRecord[bytes, bytes]]) -> list[uuid.UUID]:
    return [decode(r.value).event_id for r in records if r.value is not None]


async def test_relay_publishes_in_stream_order_with_key_and_headers(
    pool: asyncpg.Pool, database: str, kafka_bootstrap: str, kafka_topic: str
) -> None:
    store = EventStore(topics={"thread": kafka_topic})
    relay = OutboxRelay(database, kafka_bootstrap, "test")
    await relay.start()
    try:
        written = await _append(pool, store, streams=3, per_stream=4)
        records = await _read(kafka_bootstrap, kafka_topic, len(written))
        await _wait_published(pool)
    finally:
        await relay.stop()

    assert sorted(_ids(records)) == sorted(e.event_id for e in written)
    for record in records:
        envelope = decode(record.value)
        headers = dict(record.headers)
        assert record.key == envelope.stream_id.encode()
        assert headers["event_type"] == b"CommentAdded"
        assert headers["event_id"] == str(envelope.event_id).encode()
        assert headers["schema_version"] == b"1"
    by_stream: dict[str, list[int]] = {}
    for record in records:
        envelope = decode(record.value)
        by_stream.setdefault(envelope.stream_id, []).append(envelope.stream_version)
    assert all(versions == [1, 2, 3, 4] for versions in by_stream.values())


class _CrashBeforeMark(OutboxRelay):
    """Dies after the broker acknowledged a batch and before marking it, like a process killed right there."""

    async def _mark(self, conn: asyncpg.Connection, ids: list[int]) -> None:
        conn.terminate()
        raise asyncio.CancelledError


async def test_a_relay_killed_between_publish_and_mark_loses_nothing(
    pool: asyncpg.Pool, database: str, kafka_bootstrap: str, kafka_topic: str
) -> None:
    store = EventStore(topics={"thread": kafka_topic})
    written = await _append(pool, store, streams=2, per_stream=5)

    crashing = _CrashBeforeMark(database, kafka_bootstrap, "test", batch_size=4)
    await crashing.start()
    with pytest.raises(asyncio.CancelledError):
        assert crashing._task is not None
        await crashing._task
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") == len(written)

    successor = OutboxRelay(database, kafka_bootstrap, "test", standby_poll=0.1)
    await successor.start()
    try:
        await _wait_published(pool)
        records = await _read(kafka_bootstrap, kafka_topic, len(written))
    finally:
        await successor.stop()

    ids = _ids(records)
    assert set(ids) == {e.event_id for e in written}  # every event reached Kafka
    duplicates = len(ids) - len(set(ids))
    assert duplicates <= 4  # only the batch that was in flight when the relay died


async def test_a_standby_takes_over_when_the_leader_dies(
    pool: asyncpg.Pool, database: str, kafka_bootstrap: str, kafka_topic: str
) -> None:
    store = EventStore(topics={"thread": kafka_topic})
    first = OutboxRelay(database, kafka_bootstrap, "test", standby_poll=0.1)
    second = OutboxRelay(database, kafka_bootstrap, "test", standby_poll=0.1)
    await first.start()
    async with asyncio.timeout(10):
        while not first.is_leader:
            await asyncio.sleep(0.05)
    await second.start()
    try:
        await asyncio.sleep(0.5)
        assert not second.is_leader  # one active relay per database

        await first.stop()
        written = await _append(pool, store, streams=1, per_stream=3)
        await _wait_published(pool)
        assert second.is_leader
        assert second.published >= len(written)
    finally:
        await first.stop()
        await second.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def small_topic(kafka_bootstrap: str) -> AsyncIterator[str]:
    """A topic that takes no record batch larger than 4 KiB: an ordinary envelope fits, a long comment does not."""
    async with topic_taking_at_most(kafka_bootstrap, "small", 4096) as name:
        yield name


async def test_a_batch_with_a_refused_message_marks_only_the_acknowledged_rows(
    pool: asyncpg.Pool, database: str, kafka_bootstrap: str, kafka_topic: str, small_topic: str
) -> None:
    ok, refusing = EventStore(topics={"thread": kafka_topic}), EventStore(topics={"thread": small_topic})
    async with pool.acquire() as conn, conn.transaction():
        first = await ok.append(conn, str(uuid.uuid4()), "thread", [comment()], expected_version=NO_STREAM,
                                metadata=META)  # fmt: skip
        await refusing.append(conn, str(uuid.uuid4()), "thread", [comment(body="x" * 8000)],
                              expected_version=NO_STREAM, metadata=META)  # fmt: skip
        last = await ok.append(conn, str(uuid.uuid4()), "thread", [comment()], expected_version=NO_STREAM,
                               metadata=META)  # fmt: skip
    relay = OutboxRelay(database, kafka_bootstrap, "test")
    conn = await asyncpg.connect(database)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all", enable_idempotence=True,
                                **PRODUCER_DEFAULTS)  # fmt: skip
    await producer.start()
    try:
        with pytest.raises(KafkaError):
            await relay.publish_batch(conn, producer)
    finally:
        await producer.stop()
        await conn.close()

    unpublished = await pool.fetch("SELECT topic FROM outbox WHERE published_at IS NULL")
    assert [r["topic"] for r in unpublished] == [small_topic]  # the refused row only, to be tried again
    assert relay.published == 2
    records = await _read(kafka_bootstrap, kafka_topic, 2)
    assert _ids(records) == [first[0].event_id, last[0].event_id]
