"""Fixtures shared by every Casefold package's tests (registered through the pytest11 entry point)."""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from casefold_local.databases import create_database, drop_database
from casefold_testing.infra import TestInfrastructure
from casefold_testing.kafka import topic_taking_at_most

TopicFactory = Callable[..., Awaitable[str]]


@pytest.fixture(scope="session")
def test_infrastructure() -> Iterator[TestInfrastructure]:
    """The session's servers; whatever it started stops at the end of the session, on failure too."""
    infra = TestInfrastructure()
    try:
        yield infra
    finally:
        infra.close()


@pytest.fixture(scope="session")
def postgres_admin_dsn(test_infrastructure: TestInfrastructure) -> str:
    """Superuser DSN of the session's PostgreSQL server (prefer `database` for an isolated one)."""
    return test_infrastructure.postgres_dsn()


@pytest.fixture(scope="session")
def kafka_bootstrap(test_infrastructure: TestInfrastructure) -> str:
    """bootstrap_servers of the session's Kafka broker."""
    return test_infrastructure.kafka_bootstrap()


def _slug(text: str, limit: int) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:limit]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def database(postgres_admin_dsn: str, request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """DSN of a fresh database that only this test module uses; dropped afterwards."""
    dsn = await create_database(postgres_admin_dsn, "t_" + request.module.__name__.rpartition(".")[2])
    try:
        yield dsn
    finally:
        await drop_database(postgres_admin_dsn, dsn)


@pytest_asyncio.fixture(loop_scope="session")
async def topic_factory(kafka_bootstrap: str, request: pytest.FixtureRequest) -> AsyncIterator[TopicFactory]:
    """Create topics whose names are unique to this test: `await topic_factory("cases", partitions=3)`."""
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    created: list[str] = []

    async def make(prefix: str = "t", partitions: int = 1) -> str:
        name = f"{_slug(prefix, 30)}.{_slug(request.node.name, 60)}.{uuid.uuid4().hex[:8]}"
        await admin.create_topics([NewTopic(name=name, num_partitions=partitions, replication_factor=1)])
        created.append(name)
        return name

    try:
        yield make
    finally:
        with contextlib.suppress(Exception):
            await admin.delete_topics(created)
        await admin.close()


@pytest_asyncio.fixture(loop_scope="session")
async def kafka_topic(topic_factory: TopicFactory) -> str:
    """One fresh single-partition topic for this test."""
    return await topic_factory()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    """A started producer that waits for every in-sync replica, shared by the session's tests."""
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def tiny_topic(kafka_bootstrap: str) -> AsyncIterator[str]:
    """A fresh topic that takes no record larger than 64 bytes: every real envelope is too large for it."""
    async with topic_taking_at_most(kafka_bootstrap, "tiny", 64) as name:
        yield name
