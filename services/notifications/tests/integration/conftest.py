"""A real SMTP server (aiosmtpd), the notifications app with its in-process workers, unique topics per test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest_asyncio
from aiokafka import AIOKafkaProducer
from notifications_harness import Harness, HarnessFactory, SmtpSink

from casefold_local.procs import free_port
from casefold_platform.auth import JwksVerifier
from casefold_testing.tokens import TestTokenIssuer
from notifications.bootstrap import apply_migrations
from notifications.config import Settings
from notifications.main import create_app


@pytest_asyncio.fixture(loop_scope="session")
async def smtp() -> AsyncIterator[SmtpSink]:
    sink = SmtpSink(free_port())
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def migrated(database: str) -> str:
    await apply_migrations(Settings(environment="test", database_url=database))
    return database


@pytest_asyncio.fixture(loop_scope="session")
async def harness_factory(
    migrated: str,
    kafka_bootstrap: str,
    topic_factory: Callable[..., Awaitable[str]],
    smtp: SmtpSink,
    producer: AIOKafkaProducer,
) -> HarnessFactory:
    """harness_factory(cases_client=None, attachments_client=None, **settings): the app with its in-process workers,
    as a context manager."""

    @asynccontextmanager
    async def make(
        cases_client: Any = None, attachments_client: Any = None, **overrides: Any
    ) -> AsyncIterator[Harness]:
        settings = await _settings(migrated, kafka_bootstrap, topic_factory, smtp, **overrides)
        app = create_app(settings)
        tokens = TestTokenIssuer()
        app.state.jwt_verifier = JwksVerifier.from_jwks(tokens.jwks())
        if cases_client is not None:
            app.state.cases_client = cases_client
        if attachments_client is not None:
            app.state.attachments_client = attachments_client
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://notifications.test") as http:
                yield Harness(app, settings, http, smtp, producer, tokens, app.state.pool)

    return make


@pytest_asyncio.fixture(loop_scope="session")
async def harness(harness_factory: HarnessFactory) -> AsyncIterator[Harness]:
    async with harness_factory() as h:
        yield h


async def _settings(
    migrated: str,
    kafka_bootstrap: str,
    topic_factory: Callable[..., Awaitable[str]],
    smtp: SmtpSink,
    **overrides: Any,
) -> Settings:
    return Settings(
        environment="test", database_url=migrated, kafka_bootstrap_servers=kafka_bootstrap,
        consumer_name=f"notifications-{uuid.uuid4().hex[:8]}", cases_topic=await topic_factory("cases"),
        identity_topic=await topic_factory("identity"), identity_mail_topic=await topic_factory("mail"),
        mail_dead_letter_topic=await topic_factory("mail-dlq"),
        smtp_port=smtp.port, run_workers=True, run_migrations=False, retry_initial_seconds=0.2,
        retry_max_seconds=0.5, delivery_poll_seconds=0.1, connect_retry_max_seconds=0.3,
        waiting_sweep_seconds=0.2, **overrides,
    )  # fmt: skip
