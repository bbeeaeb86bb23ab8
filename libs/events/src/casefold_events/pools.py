"""The one way Casefold opens PostgreSQL connections and pools: a command timeout and TCP keepalives on each.

Without them a half-open connection (a peer that vanished, a NAT that dropped the flow, a proxy that stopped
forwarding) hangs its caller for hours: a request never answers, a consumer holds its partition, the relay leader
keeps its advisory lock and no standby takes over. Here:

- every command has a deadline (asyncpg `command_timeout`): the caller gets TimeoutError, which every loop and the
  request path treat as transient, and the pool replaces the connection;
- our side probes an idle socket (SO_KEEPALIVE, first probe after KEEPALIVE_IDLE s, then every KEEPALIVE_INTERVAL s,
  dead after KEEPALIVE_COUNT unanswered), so a read on a dead peer fails instead of waiting;
- the server probes us too (`tcp_keepalives_*` session settings), so a session whose client vanished ends, and with
  it the locks it held.

A test (libs/events/tests/unit/test_pools.py) keeps services from opening connections any other way.
"""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

COMMAND_TIMEOUT_SECONDS = 60.0
CONNECT_TIMEOUT_SECONDS = 10.0
KEEPALIVE_IDLE = 30
KEEPALIVE_INTERVAL = 10
KEEPALIVE_COUNT = 3

SERVER_KEEPALIVES = {
    "tcp_keepalives_idle": str(KEEPALIVE_IDLE),
    "tcp_keepalives_interval": str(KEEPALIVE_INTERVAL),
    "tcp_keepalives_count": str(KEEPALIVE_COUNT),
}

Init = Callable[[asyncpg.Connection], Awaitable[None]]


def enable_keepalive(conn: asyncpg.Connection) -> None:
    """SO_KEEPALIVE with our probe timings on the connection's TCP socket (a unix socket needs none)."""
    transport = conn._transport  # asyncpg exposes no keepalive option; its transport holds the socket
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for name, value in (("TCP_KEEPIDLE", KEEPALIVE_IDLE), ("TCP_KEEPINTVL", KEEPALIVE_INTERVAL),
                        ("TCP_KEEPCNT", KEEPALIVE_COUNT)):  # fmt: skip
        if hasattr(socket, name):  # Linux names; other platforms keep their defaults
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, name), value)


def _settings(extra: dict[str, str] | None) -> dict[str, str]:
    return {**SERVER_KEEPALIVES, **(extra or {})}


async def create_pool(
    dsn: str,
    *,
    min_size: int,
    max_size: int,
    command_timeout: float | None = COMMAND_TIMEOUT_SECONDS,
    server_settings: dict[str, str] | None = None,
    init: Init | None = None,
    **options: Any,
) -> asyncpg.Pool:
    """An asyncpg pool whose every connection has the command timeout and keepalives above."""

    async def _init(conn: asyncpg.Connection) -> None:
        enable_keepalive(conn)
        if init is not None:
            await init(conn)

    pool = await asyncpg.create_pool(
        dsn, min_size=min_size, max_size=max_size, command_timeout=command_timeout, timeout=CONNECT_TIMEOUT_SECONDS,
        server_settings=_settings(server_settings), init=_init, **options,
    )  # fmt: skip
    assert pool is not None  # asyncpg types it Optional for the `async with` form only
    return pool


async def connect(
    dsn: str,
    *,
    command_timeout: float | None = COMMAND_TIMEOUT_SECONDS,
    server_settings: dict[str, str] | None = None,
    connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
) -> asyncpg.Connection:
    """One connection (a LISTEN channel, the relay's lock, a migration) with the command timeout and keepalives.

    command_timeout=None for work that may legitimately run long (a migration building an index).
    """
    conn = await asyncpg.connect(
        dsn, command_timeout=command_timeout, timeout=connect_timeout, server_settings=_settings(server_settings)
    )
    enable_keepalive(conn)
    return conn
