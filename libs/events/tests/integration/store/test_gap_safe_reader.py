"""The global reader never skips an event whose transaction commits after later ones, and never reorders."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest
from events_builders import META, comment

from casefold_events.store import NO_STREAM, EventStore, Position, read_all
from casefold_events.store.reader import READ_ALL

pytestmark = pytest.mark.integration


async def _tail_position(pool: asyncpg.Pool) -> Position:
    last = Position()
    while batch := await read_all(pool, last):
        last = batch[-1][0]
    return last


async def test_a_transaction_held_open_holds_back_the_reader_until_it_commits(pool: asyncpg.Pool) -> None:
    store = EventStore()
    start = await _tail_position(pool)
    slow_conn = await pool.acquire()
    try:
        slow_tx = slow_conn.transaction()
        await slow_tx.start()
        slow = await store.append(slow_conn, str(uuid.uuid4()), "thread", [comment()], expected_version=NO_STREAM,
                                  metadata=META)  # fmt: skip
        fast_ids = []
        for _ in range(3):  # later transactions commit while the first is still open
            async with pool.acquire() as conn, conn.transaction():
                written = await store.append(
                    conn, str(uuid.uuid4()), "thread", [comment()], expected_version=NO_STREAM, metadata=META
                )
                fast_ids.append(written[0].event_id)

        slow_position = await slow_conn.fetchval(
            "SELECT global_position FROM events WHERE event_id = $1", slow[0].event_id
        )
        naive = await pool.fetch("SELECT event_id FROM events WHERE global_position >= $1", slow_position)
        # A naive position reader sees the later events now, moves its checkpoint past them and never sees slow.
        assert {r["event_id"] for r in naive} == set(fast_ids)
        assert await read_all(pool, start) == []  # ours waits

        await slow_tx.commit()
    finally:
        await pool.release(slow_conn)

    seen = [env.event_id for _, env in await read_all(pool, start)]
    assert seen == [slow[0].event_id, *fast_ids]


async def test_concurrent_appends_are_all_read_exactly_once_in_non_decreasing_order(pool: asyncpg.Pool) -> None:
    store = EventStore()
    start = await _tail_position(pool)
    written: set[uuid.UUID] = set()
    done = asyncio.Event()

    async def appender() -> None:
        for _ in range(30):
            async with pool.acquire() as conn, conn.transaction():
                envs = await store.append(conn, str(uuid.uuid4()), "thread", [comment(), comment()],
                                          expected_version=NO_STREAM, metadata=META)  # fmt: skip
                await asyncio.sleep(0.001)  # widen the window between insert and commit
            written.update(e.event_id for e in envs)

    async def tailer() -> list[tuple[Position, uuid.UUID]]:
        seen: list[tuple[Position, uuid.UUID]] = []
        last = start
        while True:
            finished = done.is_set()
            batch = await read_all(pool, last, limit=17)
            seen.extend((pos, env.event_id) for pos, env in batch)
            if batch:
                last = batch[-1][0]
            elif finished:
                return seen
            else:
                await asyncio.sleep(0.005)

    tail = asyncio.create_task(tailer())
    await asyncio.gather(*(appender() for _ in range(8)))
    done.set()
    seen = await tail

    ids = [event_id for _, event_id in seen]
    assert len(ids) == len(set(ids))  # nothing twice
    assert set(ids) == written  # nothing skipped
    positions = [pos for pos, _ in seen]
    assert positions == sorted(positions)  # never backwards


async def test_the_global_read_walks_the_primary_key_in_order_without_sorting(pool: asyncpg.Pool) -> None:
    """(tx_id, global_position) is the primary key: a batch is an index range, however long the log."""
    store = EventStore()
    async with pool.acquire() as conn:
        for _ in range(20):
            async with conn.transaction():
                await store.append(conn, str(uuid.uuid4()), "thread", [comment() for _ in range(100)],
                                   expected_version=NO_STREAM, metadata=META)  # fmt: skip
        await conn.execute("ANALYZE events")
        plan = "\n".join(row[0] for row in await conn.fetch(f"EXPLAIN {READ_ALL}", str(Position().tx_id), 0, 500))

        indexes = {r[0] for r in await conn.fetch("SELECT indexname FROM pg_indexes WHERE tablename = 'events'")}

    assert "using events_pkey" in plan
    assert "Sort" not in plan
    # Each index costs every append: the order, the concurrency guard, the event id's uniqueness; no more.
    assert indexes == {"events_pkey", "events_stream_version_unique", "events_event_id_key"}
