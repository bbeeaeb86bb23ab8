"""A Kafka outage delays publishing and loses nothing (a private broker, stopped and restarted mid-test)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from events_builders import META, comment, event_ids_on

from casefold_events.consumer import ConsumerRunner
from casefold_events.envelope import Envelope, RecordedEvent
from casefold_events.relay import OutboxRelay
from casefold_events.store import NO_STREAM, EventStore
from casefold_local import KafkaServer
from casefold_local.procs import free_port

pytestmark = pytest.mark.integration

TOPIC = "outage.events.v1"


@pytest_asyncio.fixture(loop_scope="session")
async def broker(tmp_path: Path) -> AsyncIterator[KafkaServer]:
    kafka = KafkaServer(tmp_path / "kafka", port=free_port(), controller_port=free_port(), log_level="WARN")
    await asyncio.to_thread(kafka.start)
    try:
        admin = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap)
        await admin.start()
        try:
            await admin.create_topics([NewTopic(TOPIC, num_partitions=2, replication_factor=1)])
        finally:
            await admin.close()
        yield kafka
    finally:
        await asyncio.to_thread(kafka.stop)


async def _append(pool: asyncpg.Pool, store: EventStore, count: int) -> list[RecordedEvent]:
    written: list[RecordedEvent] = []
    async with pool.acquire() as conn:
        for _ in range(count):
            async with conn.transaction():
                written += await store.append(conn, str(uuid.uuid4()), "thread", [comment()],
                                              expected_version=NO_STREAM, metadata=META)  # fmt: skip
    return written


async def _until(predicate: Callable[[], bool], seconds: float) -> None:
    async with asyncio.timeout(seconds):
        while not predicate():
            await asyncio.sleep(0.1)


def _relay(database: str, broker: KafkaServer, name: str) -> OutboxRelay:
    # Short producer timeouts: a send to the stopped broker fails (and is retried) within seconds, not 40 s.
    return OutboxRelay(database, broker.bootstrap, name, poll_interval=0.2, standby_poll=0.2,
                       producer_options={"request_timeout_ms": 3000, "retry_backoff_ms": 200})  # fmt: skip


async def _unpublished(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL AND topic = $1", TOPIC))


async def test_appends_go_on_while_the_broker_is_down_and_reach_it_once_it_is_back(
    database: str, pool: asyncpg.Pool, broker: KafkaServer
) -> None:
    store = EventStore(topics={"thread": TOPIC})
    relay = _relay(database, broker, "outage")
    await relay.start()
    try:
        before = await _append(pool, store, 3)
        await _until(lambda: relay.published >= 3, 60)

        await asyncio.to_thread(broker.stop)
        during = await _append(pool, store, 5)  # the service keeps taking writes: they wait in the outbox
        await asyncio.sleep(3)
        assert relay.published == 3
        assert await _unpublished(pool) == 5

        await asyncio.to_thread(broker.start)
        await _until(lambda: relay.published >= 8, 120)
        assert await _unpublished(pool) == 0
    finally:
        await relay.stop()

    seen = await event_ids_on(broker.bootstrap, TOPIC, 8)
    assert seen == {e.event_id for e in before + during}  # every event; duplicates only as at-least-once allows


async def test_a_consumer_waits_through_a_broker_outage_and_handles_each_event_once(
    database: str, pool: asyncpg.Pool, broker: KafkaServer
) -> None:
    store = EventStore(topics={"thread": TOPIC})
    relay = _relay(database, broker, "outage-consumer")
    handled: list[uuid.UUID] = []

    async def handle(conn: asyncpg.Connection, envelope: Envelope) -> None:
        await conn.execute("SELECT 1")
        handled.append(envelope.event_id)

    runner = ConsumerRunner(f"outage-{uuid.uuid4().hex[:6]}", broker.bootstrap, [TOPIC], pool, handle,
                            backoff_initial=0.05, backoff_max=0.5)  # fmt: skip
    await relay.start()
    await runner.start()
    try:
        written = await _append(pool, store, 3)
        await _until(lambda: set(handled) >= {e.event_id for e in written}, 60)

        await asyncio.to_thread(broker.stop)
        written += await _append(pool, store, 3)
        await asyncio.sleep(2)
        await asyncio.to_thread(broker.start)

        await _until(lambda: set(handled) >= {e.event_id for e in written}, 120)
        await asyncio.sleep(0.5)  # room for a wrong second handling to show up
    finally:
        await runner.stop()
        await relay.stop()

    assert len(handled) == len(set(handled))
