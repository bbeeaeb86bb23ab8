"""The cases pool's cheap reset: a connection given back mid-transaction comes back out of it, its work undone."""

from __future__ import annotations

import pytest

from cases.bootstrap import create_pool
from cases.config import Settings

pytestmark = pytest.mark.integration


async def test_a_connection_released_inside_a_transaction_is_rolled_back(settings: Settings) -> None:
    pool = await create_pool(settings.model_copy(update={"pool_min_size": 1, "pool_max_size": 1}))
    try:
        async with pool.acquire() as conn:
            await conn.execute("CREATE TABLE IF NOT EXISTS pool_reset_probe (n int)")
            await conn.execute("BEGIN")
            await conn.execute("INSERT INTO pool_reset_probe VALUES (1)")

        async with pool.acquire() as conn:  # the same connection: the pool holds one
            assert not conn.is_in_transaction()
            assert await conn.fetchval("SELECT count(*) FROM pool_reset_probe") == 0
    finally:
        await pool.close()
