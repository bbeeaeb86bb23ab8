"""`python -m cases reset-user-directory`: the directory is rebuilt by replaying identity.events.v1 from its start."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import asyncpg
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from cases_builders import TopicMaker

from casefold_events.consumer import ConsumerRunner
from casefold_events.contracts import ProfileUpdated, UserRegistered
from casefold_events.envelope import Envelope, Metadata, encode, kafka_headers
from cases.config import Settings
from cases.consumers import apply_identity_event, identity_events_consumer, reset_user_directory

pytestmark = pytest.mark.integration


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def identity_topic(module_topics: TopicMaker) -> str:
    name: str = await module_topics(f"identity.events.rebuild.{uuid.uuid4().hex[:8]}", 2)
    return name


@pytest.fixture(scope="module")
def settings(database: str, identity_topic: str, kafka_bootstrap: str) -> Settings:
    return Settings(
        environment="test", database_url=database, identity_topic=identity_topic, run_workers=False,
        kafka_bootstrap_servers=kafka_bootstrap, consumer_name=f"cases-rebuild-{uuid.uuid4().hex[:8]}",
    )  # fmt: skip


async def _names(pool: asyncpg.Pool, expected: int) -> dict[uuid.UUID, str]:
    """The directory's names once every user has their last one (each user's second event renames them)."""
    query = "SELECT id, display_name FROM users WHERE display_name IS NOT NULL AND display_name <> 'First'"
    async with asyncio.timeout(30):
        while len(rows := await pool.fetch(query)) < expected:
            await asyncio.sleep(0.05)
    return {r["id"]: r["display_name"] for r in rows}


async def test_a_reset_replays_every_identity_event_into_an_empty_directory(
    settings: Settings, pool: asyncpg.Pool, kafka_bootstrap: str
) -> None:
    users = [uuid.uuid4() for _ in range(4)]
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for uid in users:
            for version, event in enumerate([
                UserRegistered(user_id=uid, email=f"{uid}@example.com", display_name="First", terms_version="1"),
                ProfileUpdated(user_id=uid, display_name=f"Name {uid.hex[:6]}"),
            ], start=1):  # fmt: skip
                e = Envelope.wrap(event, stream_id=str(uid), stream_type="user", stream_version=version,
                                  metadata=Metadata(), occurred_at=datetime.now(UTC))  # fmt: skip
                await producer.send_and_wait(settings.identity_topic, encode(e), key=e.stream_id.encode(),
                                             headers=kafka_headers(e))  # fmt: skip
    finally:
        await producer.stop()
    # A member that misses heartbeats for session_timeout_ms (a starved CPU) leaves the group, and then the rewind
    # is allowed: this worker gets a long session so that it stays a member while the test runs.
    worker = ConsumerRunner(settings.consumer_name, settings.kafka_bootstrap_servers, [settings.identity_topic], pool,
                            apply_identity_event, consumer_options={"session_timeout_ms": 60_000})  # fmt: skip
    await worker.start()
    try:
        before = await _names(pool, len(users))
        with pytest.raises(KafkaError):  # the group has a member: the broker refuses the rewind
            await reset_user_directory(settings, pool)
        assert len(await _names(pool, len(users))) == len(users)
    finally:
        await worker.stop()
    await pool.execute("UPDATE users SET display_name = 'corrupted', name_version = 99")  # e.g. a projection bug

    assert await reset_user_directory(settings, pool) == 2
    assert await pool.fetchval("SELECT count(*) FROM users") == 0
    worker = identity_events_consumer(settings, pool)
    await worker.start()
    try:
        after = await _names(pool, len(users))
    finally:
        await worker.stop()

    assert after == before == {uid: f"Name {uid.hex[:6]}" for uid in users}
