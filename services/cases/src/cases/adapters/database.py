"""The connection pool and migrations of the cases database."""

from __future__ import annotations

import asyncpg

from casefold_events.migrate import migrate, package_migrations, shared_migrations
from cases.config import Settings


async def apply_migrations(settings: Settings) -> list[str]:
    """The shared event-store tables, then the cases read model; the names applied now."""
    return await migrate(settings.database_url, [shared_migrations(), package_migrations("cases")])


async def create_pool(settings: Settings) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        settings.database_url, min_size=settings.pool_min_size, max_size=settings.pool_max_size
    )
    assert pool is not None
    return pool
