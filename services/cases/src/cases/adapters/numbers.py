"""Human case numbers from a PostgreSQL sequence, taken inside the open-case transaction."""

from __future__ import annotations

import asyncpg

NEXT_NUMBER_EXPRESSION = "nextval('case_number_seq')"
NEXT_NUMBER = f"SELECT {NEXT_NUMBER_EXPRESSION}"


async def next_case_number(conn: asyncpg.Connection) -> int:
    """The next number; a rolled-back open leaves a gap (numbers are unique and increasing, not dense)."""
    return int(await conn.fetchval(NEXT_NUMBER))
