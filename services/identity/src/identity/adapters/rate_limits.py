"""Sliding-window rate limits kept in the database, so that every replica shares the same counts."""

from __future__ import annotations

import math
from datetime import datetime

import asyncpg

# Serialises counters of one bucket across replicas for the length of the caller's transaction.
LOCK = "SELECT pg_advisory_xact_lock(hashtext($1))"
WINDOW = """
    SELECT count(*) AS hits, min(at) AS oldest, now() AS now FROM rate_limit_hits
    WHERE bucket = $1 AND at > now() - make_interval(secs => $2)
"""
HIT = "INSERT INTO rate_limit_hits (bucket) VALUES ($1)"
CLEAR = "DELETE FROM rate_limit_hits WHERE bucket = $1"
PURGE = "DELETE FROM rate_limit_hits WHERE at < now() - make_interval(secs => $1)"


async def retry_after(conn: asyncpg.Connection, bucket: str, *, limit: int, window_seconds: int) -> int | None:
    """Seconds until the bucket has room again, or None when it has room now."""
    row = await conn.fetchrow(WINDOW, bucket, float(window_seconds))
    if row["hits"] < limit:
        return None
    oldest: datetime = row["oldest"]
    now: datetime = row["now"]
    return max(1, math.ceil(window_seconds - (now - oldest).total_seconds()))


async def hit(conn: asyncpg.Connection, bucket: str) -> None:
    await conn.execute(HIT, bucket)


async def take(conn: asyncpg.Connection, bucket: str, *, limit: int, window_seconds: int) -> int | None:
    """Count one attempt if there is room (returns None), else return the seconds to wait and count nothing."""
    await conn.execute(LOCK, bucket)
    wait = await retry_after(conn, bucket, limit=limit, window_seconds=window_seconds)
    if wait is None:
        await hit(conn, bucket)
    return wait


async def clear(conn: asyncpg.Connection, bucket: str) -> None:
    await conn.execute(CLEAR, bucket)


async def purge(conn: asyncpg.Connection | asyncpg.Pool, older_than_seconds: int) -> None:
    await conn.execute(PURGE, float(older_than_seconds))
