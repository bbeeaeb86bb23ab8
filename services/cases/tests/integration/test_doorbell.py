"""A command wakes the outbox relay after it has committed (casefold_events.doorbell), not by NOTIFY in its
transaction: by one NOTIFY when the relay leads elsewhere (the worker), directly when it leads in this process."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace

import asyncpg
import pytest
from cases_builders import TopicMaker
from fastapi import FastAPI

from casefold_events.doorbell import Doorbell
from casefold_events.envelope import Actor, Metadata
from casefold_events.relay import OutboxRelay
from casefold_events.store.eventstore import OUTBOX_CHANNEL
from casefold_testing.listening import listening
from cases.app import handlers
from cases.app.handlers import CommandDeps
from cases.domain.commands import AddComment, Caller, OpenCase

pytestmark = pytest.mark.integration

CUSTOMER = Caller(user_id=uuid.uuid4(), role="customer", email_verified=True)
METADATA = Metadata(actor=Actor(user_id=CUSTOMER.user_id, role="customer"), correlation_id=uuid.uuid4())


def _open() -> OpenCase:
    return OpenCase(case_id=uuid.uuid4(), product_id="casefold-cloud", subject="woken", description="after commit",
                    severity=2, attachments=())  # fmt: skip


async def test_each_command_commits_without_notify_and_rings_once_after(app: FastAPI, database: str) -> None:
    deps: CommandDeps = app.state.commands  # run_workers=False: the relay leads in another process
    async with listening(database, OUTBOX_CHANNEL) as heard:
        opened = await handlers.handle_open_case(deps, _open(), CUSTOMER, METADATA, str(uuid.uuid4()))
        await deps.doorbell.close()
        assert await heard.settle() == 1

        comment = AddComment(case_id=uuid.UUID(opened.body["id"]), comment_id=uuid.uuid4(), body="hi", internal=False)
        await handlers.handle_add_comment(deps, comment, CUSTOMER, METADATA, str(uuid.uuid4()))
        await deps.doorbell.close()
        assert await heard.settle() == 2


async def _published(pool: asyncpg.Pool, case_id: str | None = None) -> None:
    """Until the outbox holds no unpublished row (of case_id's stream, or at all)."""
    while await pool.fetchval(
        "SELECT count(*) FROM outbox WHERE published_at IS NULL AND ($1::text IS NULL OR message_key = $1)", case_id
    ):
        await asyncio.sleep(0.05)


async def test_a_relay_leading_here_publishes_a_command_at_once_not_at_its_next_poll(
    app: FastAPI, module_topics: TopicMaker, kafka_bootstrap: str, database: str
) -> None:
    relay = OutboxRelay(database, kafka_bootstrap, "doorbell-test", poll_interval=30)
    deps = replace(app.state.commands, doorbell=Doorbell(app.state.pool, local=relay))
    await module_topics(app.state.settings.events_topic)
    await relay.start()
    try:
        async with asyncio.timeout(20):
            while not relay.is_leader:
                await asyncio.sleep(0.05)
            await _published(app.state.pool)  # the backlog; then the relay waits for a wake-up or its next poll
        opened = await handlers.handle_open_case(deps, _open(), CUSTOMER, METADATA, str(uuid.uuid4()))
        async with asyncio.timeout(10):  # a third of the poll interval: only the ring can have woken the relay
            await _published(app.state.pool, opened.body["id"])
    finally:
        await relay.stop()
