"""Every connection from casefold_events.pools has a command deadline and TCP keepalives on both ends."""

from __future__ import annotations

import socket

import pytest

from casefold_events import pools

pytestmark = pytest.mark.integration


async def test_a_pooled_connection_has_keepalives_and_a_command_deadline(database: str) -> None:
    pool = await pools.create_pool(database, min_size=1, max_size=1, command_timeout=0.5)
    try:
        async with pool.acquire() as conn:
            sock = conn._con._transport.get_extra_info("socket")
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == pools.KEEPALIVE_IDLE
            assert await conn.fetchval("SHOW tcp_keepalives_idle") == str(pools.KEEPALIVE_IDLE)
            with pytest.raises(TimeoutError):
                await conn.execute("SELECT pg_sleep(5)")
    finally:
        await pool.close()


async def test_a_single_connection_has_them_too(database: str) -> None:
    conn = await pools.connect(database, command_timeout=0.5)
    try:
        sock = conn._transport.get_extra_info("socket")
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
        assert await conn.fetchval("SHOW tcp_keepalives_count") == str(pools.KEEPALIVE_COUNT)
        with pytest.raises(TimeoutError):
            await conn.execute("SELECT pg_sleep(5)")
    finally:
        await conn.close()


async def test_a_migration_connection_may_run_long(database: str) -> None:
    conn = await pools.connect(database, command_timeout=None)
    try:
        assert await conn.fetchval("SELECT 1 FROM pg_sleep(0.6)") == 1
    finally:
        await conn.close()
