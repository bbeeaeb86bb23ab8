"""Sliding-window rate limits kept in the database, so that every replica shares the same counts."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from casefold_events import locks

# Serialises counters of one bucket across replicas for the length of the caller's transaction.
LOCK = f"SELECT pg_advisory_xact_lock({locks.RATE_LIMIT_BUCKET.key_sql})"
WINDOW = """
    SELECT count(*) AS hits, min(at) AS oldest, now() AS now FROM rate_limit_hits
    WHERE bucket = $1 AND at > now() - make_interval(secs => $2)
"""
# For growing delays: how many failures in the window, and when the latest was.
RECENT = """
    SELECT count(*) AS hits, max(at) AS newest, now() AS now FROM rate_limit_hits
    WHERE bucket = $1 AND at > now() - make_interval(secs => $2)
"""
HIT = "INSERT INTO rate_limit_hits (bucket) VALUES ($1)"
CLEAR = "DELETE FROM rate_limit_hits WHERE bucket = $1"
CLEAR_PREFIX = "DELETE FROM rate_limit_hits WHERE starts_with(bucket, $1)"
RELEASE = """
    DELETE FROM rate_limit_hits
    WHERE ctid = (SELECT ctid FROM rate_limit_hits WHERE bucket = $1 ORDER BY at DESC LIMIT 1)
"""
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
    return await take_all(conn, [(bucket, limit)], window_seconds=window_seconds)


async def take_all(conn: asyncpg.Connection, buckets: list[tuple[str, int]], *, window_seconds: int) -> int | None:
    """Count one attempt in every (bucket, limit) if all have room (None), else the longest wait and count nothing.

    The buckets are locked in one order (no deadlock between two callers taking the same pair) until the caller's
    transaction ends, so concurrent attempts are counted one after the other.
    """
    for bucket, _ in sorted(buckets):
        await conn.execute(LOCK, bucket)
    waits = [await retry_after(conn, bucket, limit=limit, window_seconds=window_seconds) for bucket, limit in buckets]
    if any(w is not None for w in waits):
        return max(w for w in waits if w is not None)
    for bucket, _ in buckets:
        await hit(conn, bucket)
    return None


@dataclass(frozen=True)
class Delayed:
    """A bucket with growing delays: `free` failures in the window cost nothing, then each further one must wait
    1, 2, 4, ... seconds after the latest, at most `max_delay` (a slowdown, never a lock the owner cannot outwait)."""

    bucket: str
    free: int
    max_delay: int


async def delay_remaining(conn: asyncpg.Connection, limit: Delayed, *, window_seconds: int) -> int | None:
    """Seconds still to wait before the next attempt on a Delayed bucket, or None when it may go now."""
    row = await conn.fetchrow(RECENT, limit.bucket, float(window_seconds))
    if row["hits"] < limit.free:
        return None
    delay = min(limit.max_delay, 2 ** min(row["hits"] - limit.free, 30))
    newest: datetime = row["newest"]
    now: datetime = row["now"]
    remaining = delay - (now - newest).total_seconds()
    return math.ceil(remaining) if remaining > 0 else None


async def take_with_delays(
    conn: asyncpg.Connection, hard: list[tuple[str, int]], delayed: list[Delayed], *, window_seconds: int
) -> int | None:
    """take_all over hard limits and Delayed buckets together: all locked in one order, counted only if all allow."""
    for bucket in sorted([b for b, _ in hard] + [d.bucket for d in delayed]):
        await conn.execute(LOCK, bucket)
    waits = [await retry_after(conn, bucket, limit=limit, window_seconds=window_seconds) for bucket, limit in hard]
    waits += [await delay_remaining(conn, d, window_seconds=window_seconds) for d in delayed]
    if any(w is not None for w in waits):
        return max(w for w in waits if w is not None)
    for bucket in [b for b, _ in hard] + [d.bucket for d in delayed]:
        await hit(conn, bucket)
    return None


async def release(conn: asyncpg.Connection, bucket: str) -> None:
    """Take back one counted attempt (the newest) from a bucket."""
    await conn.execute(RELEASE, bucket)


async def clear(conn: asyncpg.Connection, bucket: str) -> None:
    await conn.execute(CLEAR, bucket)


async def clear_prefix(conn: asyncpg.Connection, prefix: str) -> None:
    await conn.execute(CLEAR_PREFIX, prefix)


async def purge(conn: asyncpg.Connection | asyncpg.Pool, older_than_seconds: int) -> None:
    await conn.execute(PURGE, float(older_than_seconds))
