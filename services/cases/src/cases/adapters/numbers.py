"""Human case numbers from a PostgreSQL sequence, taken inside the open-case transaction."""

from __future__ import annotations

import asyncpg

NEXT_NUMBER = "SELECT nextval('case_number_seq')"


async def next_case_number(conn: asyncpg.Connection) -> int:
    """The next number; a rolled-back open leaves a gap (numbers are unique and increasing, not dense)."""
    return int(await conn.fetchval(NEXT_NUMBER))
