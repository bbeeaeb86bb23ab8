"""Writes that ride together (casefold_events.writes): an append, the caller's write and an idempotency completion
sent as one statement, on a real PostgreSQL; nothing before the flush, everything or nothing after it."""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from events_builders import META, comment

from casefold_events.idempotency import StoredResponse, claim, complete, fingerprint
from casefold_events.store import NO_STREAM, ConcurrencyError, EventStore
from casefold_events.writes import Write, Writes

pytestmark = pytest.mark.integration

TOPICS = {"thread": "threads.events.v1"}
NOTES = "CREATE TABLE IF NOT EXISTS deferred_notes (stream_id text PRIMARY KEY, note text NOT NULL)"


def _note(stream: str, note: str) -> Write:
    return Write(ctes=(("noted", "INSERT INTO deferred_notes VALUES ($1, $2)"),), args=(stream, note))


async def _counts(conn: asyncpg.Connection | asyncpg.Pool, stream: str) -> tuple[int, int, int]:
    row = await conn.fetchrow(
        """SELECT (SELECT count(*) FROM events WHERE stream_id = $1), (SELECT count(*) FROM outbox WHERE
           message_key = $1), (SELECT count(*) FROM deferred_notes WHERE stream_id = $1)""",
        stream,
    )
    assert row is not None
    return row[0], row[1], row[2]


async def test_deferred_writes_are_sent_together_at_the_flush(pool: asyncpg.Pool) -> None:
    await pool.execute(NOTES)
    store, stream, key = EventStore(topics=TOPICS), str(uuid.uuid4()), str(uuid.uuid4())
    pending = Writes()
    async with pool.acquire() as conn, conn.transaction():
        assert await claim(conn, "deferred", key, fingerprint({"k": key})) is None
        recorded = await store.append(
            conn, stream, "thread", [comment(body="a")], expected_version=NO_STREAM, metadata=META, defer=pending
        )
        pending.add(_note(stream, "projected"))
        await complete(conn, "deferred", key, 201, {"id": stream}, defer=pending)

        assert [r.stream_version for r in recorded] == [1]
        assert await _counts(conn, stream) == (0, 0, 0)  # nothing sent yet
        await pending.flush(conn)
        assert await _counts(conn, stream) == (1, 1, 1)
        assert pending.pending == []

    assert await _counts(pool, stream) == (1, 1, 1)
    stored = await claim_again(pool, key)
    assert (stored.status, stored.body) == (201, {"id": stream})


async def _first_append_with_a_note(
    store: EventStore, conn: asyncpg.Connection, stream: str, body: str, pending: Writes
) -> None:
    """Version 1 of stream and a note of the caller's, both deferred to pending."""
    await store.append(
        conn, stream, "thread", [comment(body=body)], expected_version=NO_STREAM, metadata=META, defer=pending
    )
    pending.add(_note(stream, "must not stay"))


async def claim_again(pool: asyncpg.Pool, key: str) -> StoredResponse:
    async with pool.acquire() as conn, conn.transaction():
        stored = await claim(conn, "deferred", key, fingerprint({"k": key}))
    assert stored is not None
    return stored


async def test_a_moved_stream_fails_the_flush_and_its_transaction_writes_nothing(pool: asyncpg.Pool) -> None:
    await pool.execute(NOTES)
    store, stream = EventStore(topics=TOPICS), str(uuid.uuid4())
    async with pool.acquire() as conn, conn.transaction():
        await store.append(conn, stream, "thread", [comment(body="first")], expected_version=NO_STREAM, metadata=META)

    pending = Writes()
    with pytest.raises(ConcurrencyError):
        async with pool.acquire() as conn, conn.transaction():
            await _first_append_with_a_note(store, conn, stream, "late", pending)
            await pending.flush(conn)

    assert await _counts(pool, stream) == (1, 1, 0)


async def test_an_append_committed_by_another_meanwhile_is_a_concurrency_error_at_the_flush(
    pool: asyncpg.Pool,
) -> None:
    await pool.execute(NOTES)
    store, stream = EventStore(topics=TOPICS), str(uuid.uuid4())
    pending = Writes()
    with pytest.raises(ConcurrencyError):
        async with pool.acquire() as conn, conn.transaction():
            await _first_append_with_a_note(store, conn, stream, "mine", pending)
            # Between the decision and the flush, another writer commits version 1.
            async with pool.acquire() as other, other.transaction():
                await store.append(other, stream, "thread", [comment(body="theirs")], expected_version=NO_STREAM,
                                   metadata=META)  # fmt: skip
            await pending.flush(conn)

    assert await _counts(pool, stream) == (1, 1, 0)
    assert [e.event().body for e in await store.read_stream(pool, stream)] == ["theirs"]  # type: ignore[attr-defined]
