"""The relay's doorbell on real PostgreSQL: an append with notify=False commits without NOTIFY, and a ring after the
commit is one NOTIFY (coalesced, never lost), or none at all when this process's relay leads."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
import pytest_asyncio
from events_builders import META, comment
from structlog.testing import capture_logs

from casefold_events.doorbell import Doorbell
from casefold_events.store import NO_STREAM, EventStore
from casefold_events.store.eventstore import OUTBOX_CHANNEL
from casefold_testing.listening import Heard, listening
from casefold_testing.statements import counting

pytestmark = pytest.mark.integration


@pytest_asyncio.fixture(loop_scope="session")
async def heard(database: str) -> AsyncIterator[Heard]:
    async with listening(database, OUTBOX_CHANNEL) as heard:
        yield heard


class LocalRelay:
    """This process's relay, as the doorbell sees it (casefold_events.doorbell.Wakeable)."""

    def __init__(self, *, leading: bool) -> None:
        self.is_leader = leading
        self.woken = 0

    def wake(self, *_: object) -> None:
        self.woken += 1


async def _append(pool: asyncpg.Pool, *, notify: bool) -> None:
    store = EventStore(topics={"thread": f"t.{uuid.uuid4().hex[:6]}"})
    async with pool.acquire() as conn, conn.transaction():
        await store.append(conn, str(uuid.uuid4()), "thread", [comment()], expected_version=NO_STREAM, metadata=META,
                           notify=notify)  # fmt: skip


async def test_an_append_notifies_in_its_transaction_unless_told_not_to(pool: asyncpg.Pool, heard: Heard) -> None:
    await _append(pool, notify=True)
    assert await heard.settle() == 1

    await _append(pool, notify=False)
    assert await heard.settle() == 1
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") >= 2  # both queued


async def test_rings_before_the_notify_is_sent_are_answered_by_it(pool: asyncpg.Pool, heard: Heard) -> None:
    bell = Doorbell(pool)
    for _ in range(50):  # one burst, before the first NOTIFY is on its way
        bell.ring()
    await bell.close()

    assert bell.notifications == 1
    assert await heard.settle() == 1


async def test_a_ring_while_a_notify_is_on_its_way_gets_one_more_after_it(pool: asyncpg.Pool, heard: Heard) -> None:
    bell = Doorbell(pool)
    bell.ring()
    await asyncio.sleep(0)  # the NOTIFY is sent and its answer awaited: it may predate what the next ring announces
    bell.ring()
    bell.ring()
    await bell.close()

    assert bell.notifications == 2
    assert await heard.settle() == 2


async def test_a_leading_relay_in_this_process_is_woken_without_a_statement(pool: asyncpg.Pool, heard: Heard) -> None:
    leading, standby = LocalRelay(leading=True), LocalRelay(leading=False)

    with counting() as sent:
        Doorbell(pool, local=leading).ring()
    assert (leading.woken, sent) == (1, [])

    bell = Doorbell(pool, local=standby)  # the leader is another process's relay: it hears a NOTIFY
    bell.ring()
    await bell.close()
    assert (standby.woken, bell.notifications) == (0, 1)
    assert await heard.settle() == 1


async def test_a_notify_that_fails_is_logged_and_the_next_ring_tries_again(database: str) -> None:
    closed = await asyncpg.create_pool(database, min_size=1, max_size=1)
    await closed.close()
    bell = Doorbell(closed)

    with capture_logs() as logs:
        for _ in range(2):
            bell.ring()
            await bell.close()  # raises nothing: the relay's polling is the safety net
    assert bell.notifications == 0
    assert [e["event"] for e in logs] == ["doorbell_notify_failed", "doorbell_notify_failed"]
