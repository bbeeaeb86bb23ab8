"""The cases app on the real PostgreSQL of the test session: one fresh database per module, tokens from a test key."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable

import asyncpg
import httpx
import pytest
import pytest_asyncio
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from cases_builders import TopicMaker, User
from fastapi import FastAPI

from casefold_platform.auth import JwksVerifier
from casefold_testing.tokens import TestTokenIssuer
from cases.config import Settings
from cases.main import create_app


@pytest.fixture(scope="session")
def issuer() -> TestTokenIssuer:
    return TestTokenIssuer()


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def module_topics(kafka_bootstrap: str) -> AsyncIterator[TopicMaker]:
    """Topics for a module's app (its settings live as long as the module): `await module_topics("name", 3)`."""
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    created: list[str] = []

    async def make(name: str, partitions: int = 1) -> str:
        await admin.create_topics([NewTopic(name=name, num_partitions=partitions, replication_factor=1)])
        created.append(name)
        return name

    try:
        yield make
    finally:
        if created:
            await admin.delete_topics(created)
        await admin.close()


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def worker_topics(module_topics: TopicMaker) -> tuple[str, str]:
    """The events and identity topics of a module that runs `python -m cases worker` (relay and directory)."""
    suffix = uuid.uuid4().hex[:8]
    return await module_topics(f"cases.events.test.{suffix}"), await module_topics(f"identity.events.test.{suffix}")


@pytest.fixture(scope="module")
def settings(database: str) -> Settings:
    return Settings(
        environment="test",
        database_url=database,
        events_topic=f"cases.test.{uuid.uuid4().hex[:8]}",
        run_workers=False,
        snapshot_every=5,
    )


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def app(settings: Settings, issuer: TestTokenIssuer) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    application.state.jwt_verifier = JwksVerifier.from_jwks(issuer.jwks())
    async with application.router.lifespan_context(application):
        yield application


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://cases.test") as http:
        yield http


@pytest.fixture
def user(client: httpx.AsyncClient, issuer: TestTokenIssuer) -> Callable[..., User]:
    """user() -> a new verified customer; user(role="agent"), user(email_verified=False)."""

    def make(role: str = "customer", email_verified: bool = True) -> User:
        return User(client, issuer, role=role, email_verified=email_verified)

    return make


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def pool(app: FastAPI) -> asyncpg.Pool:
    the_pool: asyncpg.Pool = app.state.pool
    return the_pool
