"""Rebuild the read model from the event store while the service keeps serving.

1. Create empty shadow tables and replay every event into them (read_all, gap-safe, in batches); commands keep
   projecting into the live tables meanwhile and readers keep reading them.
2. Final transaction: take the writers' lock exclusively (commands wait a moment; reads go on), replay what was
   appended since, then swap the shadow tables in. Readers see the old or the new read model, never a mix.
"""

from __future__ import annotations

import asyncio

import asyncpg
import structlog

from casefold_events.store import Position, read_all
from cases.adapters.projection import SHADOW, TAKE_EXCLUSIVE_WRITER_LOCK, project
from cases.domain.sla import SlaPolicy

log = structlog.get_logger("cases.rebuild")

BATCH = 1000
DROP_SHADOW = (
    "DROP TABLE IF EXISTS case_summaries_shadow, case_comments_shadow, case_attachments_shadow, case_search_shadow"
)
CREATE_SHADOW = "SELECT cases_create_read_model('_shadow')"
SWAP = "SELECT cases_swap_read_model()"
# Committed events the gap-safe reader cannot return yet: an unrelated transaction older than them is running.
EVENTS_ABOVE_HORIZON = """
    SELECT EXISTS (SELECT 1 FROM events WHERE tx_id >= pg_snapshot_xmin(pg_current_snapshot()))
"""
# Bounds the final phase: the rebuild's exclusive lock makes commands wait, never for long.
LOCK_TIMEOUT = "SET LOCAL lock_timeout = '10s'"


async def _catch_up(conn: asyncpg.Connection, position: Position, sla: SlaPolicy) -> tuple[Position, int]:
    """Replay into the shadow tables until the reader has nothing more; the new position and how many events."""
    replayed = 0
    while True:
        batch = await read_all(conn, position, limit=BATCH)
        if not batch:
            return position, replayed
        await project(conn, [envelope for _, envelope in batch], SHADOW, sla=sla)
        position = batch[-1][0]
        replayed += len(batch)


async def rebuild_read_model(pool: asyncpg.Pool, sla: SlaPolicy, *, horizon_wait_seconds: float = 30.0) -> int:
    """Replay all events into fresh tables and swap them in; the number of events replayed."""
    async with pool.acquire() as conn:
        await conn.execute(DROP_SHADOW)
        await conn.execute(CREATE_SHADOW)
        position, total = Position(), 0
        while True:
            async with conn.transaction():
                before = position
                position, replayed = await _catch_up_batch(conn, position, sla)
                total += replayed
            if position == before:
                break
        log.info("read_model_bulk_replayed", events=total)
        async with conn.transaction():
            await conn.execute(LOCK_TIMEOUT)
            await conn.execute(TAKE_EXCLUSIVE_WRITER_LOCK)
            await _wait_for_horizon(conn, horizon_wait_seconds)
            position, replayed = await _catch_up(conn, position, sla)
            total += replayed
            await conn.execute(SWAP)
        log.info("read_model_swapped", events=total, caught_up=replayed)
        return total


async def _catch_up_batch(conn: asyncpg.Connection, position: Position, sla: SlaPolicy) -> tuple[Position, int]:
    """One bounded batch per transaction during the bulk phase, so it holds nothing back for long."""
    batch = await read_all(conn, position, limit=BATCH)
    if not batch:
        return position, 0
    await project(conn, [envelope for _, envelope in batch], SHADOW, sla=sla)
    return batch[-1][0], len(batch)


async def _wait_for_horizon(conn: asyncpg.Connection, wait_seconds: float) -> None:
    # With the writers' lock held, no command transaction is running; only an unrelated long transaction can hold
    # the reader's horizon back. Wait for it rather than swap in a read model that misses events.
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_seconds
    while await conn.fetchval(EVENTS_ABOVE_HORIZON):
        if loop.time() > deadline:
            raise TimeoutError("a long-running transaction holds the event reader back; rebuild aborted, retry later")
        await asyncio.sleep(0.1)
