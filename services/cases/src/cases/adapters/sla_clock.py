"""The controllable clock (CASES_CONTROLLABLE_CLOCK): now = the real time + an offset that only grows, kept in the
one-row `sla_clock` table so that the API and the worker, separate processes, move together.

`now()` stays synchronous (the Clock protocol): each process holds the offset it last read; the API refreshes it
before every request and the SLA worker before every round, so a POST /internal/clock on any API process is seen by
all of them from their next request or round.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

READ_OFFSET = "SELECT offset_seconds FROM sla_clock"
ADVANCE = """
    INSERT INTO sla_clock (id, offset_seconds) VALUES (true, $1)
    ON CONFLICT (id) DO UPDATE SET offset_seconds = sla_clock.offset_seconds + EXCLUDED.offset_seconds
    RETURNING offset_seconds
"""


class ControllableClock:
    """A clock tests move forward (never back: events stamped with it stay in order)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    async def refresh(self, conn: asyncpg.Connection | asyncpg.Pool) -> None:
        """Read the shared offset."""
        seconds = await conn.fetchval(READ_OFFSET)
        self.offset = timedelta(seconds=seconds or 0)

    async def advance(self, conn: asyncpg.Connection | asyncpg.Pool, seconds: int) -> datetime:
        """Move every process's clock forward by seconds; the new now."""
        self.offset = timedelta(seconds=await conn.fetchval(ADVANCE, seconds))
        return self.now()
