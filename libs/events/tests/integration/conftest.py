"""A migrated database and a pool per test module."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest_asyncio

from casefold_events.migrate import migrate, shared_migrations


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def pool(database: str) -> AsyncIterator[asyncpg.Pool]:
    await migrate(database, [shared_migrations()])
    pool = await asyncpg.create_pool(database, min_size=1, max_size=20)
    try:
        yield pool
    finally:
        await pool.close()
