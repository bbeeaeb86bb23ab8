"""A PostgreSQL restart delays the relay and the consumers and loses nothing (a private server, restarted mid-test)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer
from events_builders import META, comment, event_ids_on

from casefold_events.consumer import ConsumerRunner
from casefold_events.envelope import Envelope, RecordedEvent, encode
from casefold_events.migrate import migrate, shared_migrations
from casefold_events.relay import OutboxRelay
from casefold_events.store import NO_STREAM, EventStore
from casefold_local import PostgresServer
from casefold_local.procs import free_port

pytestmark = pytest.mark.integration


@pytest_asyncio.fixture(loop_scope="session")
async def server(tmp_path: Path) -> AsyncIterator[PostgresServer]:
    pg = PostgresServer(tmp_path / "pg", port=free_port(), fast=True)
    await asyncio.to_thread(pg.start)
    try:
        await migrate(pg.dsn(), [shared_migrations()])
        yield pg
    finally:
        await asyncio.to_thread(pg.stop)


async def _append(dsn: str, store: EventStore, count: int) -> list[RecordedEvent]:
    conn = await asyncpg.connect(dsn)
    try:
        written: list[RecordedEvent] = []
        for _ in range(count):
            async with conn.transaction():
                written += await store.append(conn, str(uuid.uuid4()), "thread", [comment()],
                                              expected_version=NO_STREAM, metadata=META)  # fmt: skip
        return written
    finally:
        await conn.close()


async def _until(predicate: Callable[[], bool], seconds: float = 60) -> None:
    async with asyncio.timeout(seconds):
        while not predicate():
            await asyncio.sleep(0.1)


async def test_the_relay_resumes_after_a_database_restart(
    server: PostgresServer, kafka_bootstrap: str, kafka_topic: str
) -> None:
    store = EventStore(topics={"thread": kafka_topic})
    relay = OutboxRelay(server.dsn(), kafka_bootstrap, "restart", poll_interval=0.2, standby_poll=0.2)
    await relay.start()
    try:
        before = await _append(server.dsn(), store, 3)
        await _until(lambda: relay.published >= 3)

        await asyncio.to_thread(server.stop)
        await asyncio.sleep(1)  # the relay fails to reach the database meanwhile, and backs off
        await asyncio.to_thread(server.start)

        after = await _append(server.dsn(), store, 3)
        await _until(lambda: relay.published >= 6)
    finally:
        await relay.stop()

    seen = await event_ids_on(kafka_bootstrap, kafka_topic, 6)
    assert seen == {e.event_id for e in before + after}


async def test_a_consumer_retries_through_a_database_restart_and_handles_each_event_once(
    server: PostgresServer, kafka_bootstrap: str, kafka_topic: str
) -> None:
    store = EventStore(topics={"thread": kafka_topic})
    relay = OutboxRelay(server.dsn(), kafka_bootstrap, "restart-relay", poll_interval=0.2, standby_poll=0.2)
    pool = await asyncpg.create_pool(server.dsn(), min_size=1, max_size=4)
    handled: list[uuid.UUID] = []

    async def handle(conn: asyncpg.Connection, envelope: Envelope) -> None:
        await conn.execute("SELECT 1")
        handled.append(envelope.event_id)

    runner = ConsumerRunner(f"restart-{uuid.uuid4().hex[:6]}", kafka_bootstrap, [kafka_topic], pool, handle,
                            backoff_initial=0.05, backoff_max=0.5)  # fmt: skip
    await relay.start()
    await runner.start()
    try:
        written = await _append(server.dsn(), store, 2)
        await _until(lambda: len(handled) >= 2)

        await asyncio.to_thread(server.stop)
        # Published before the restart, consumed while the database is down: the runner must wait, not drop.
        await _redeliver(kafka_bootstrap, kafka_topic, written[0])
        await asyncio.sleep(1)
        await asyncio.to_thread(server.start)

        written += await _append(server.dsn(), store, 2)
        await _until(lambda: len(set(handled)) >= 4)
        await asyncio.sleep(0.5)  # room for a wrong second handling to show up
    finally:
        await runner.stop()
        await relay.stop()
        await pool.close()

    assert sorted(set(handled)) == sorted(e.event_id for e in written)
    assert len(handled) == len(set(handled))  # the redelivered event was a no-op (inbox)


async def _redeliver(bootstrap: str, topic: str, envelope: RecordedEvent) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, encode(envelope), key=envelope.stream_id.encode())
    finally:
        await producer.stop()
