"""Expiring unverified accounts: a sign-up that never confirms its address must not hold it (or its name) for ever."""

from __future__ import annotations

from uuid import UUID

import asyncpg
import structlog

from identity.adapters import users
from identity.app.common import Identity, metadata_for, transact

log = structlog.get_logger("identity.expiry")
BATCH = 500


async def purge_unverified(ctx: Identity, *, ttl_seconds: int | None = None) -> int:
    """Expire (UnverifiedAccountExpired) every unconfirmed customer older than the TTL; returns how many."""
    ttl = ctx.settings.unverified_ttl_seconds if ttl_seconds is None else ttl_seconds
    purged = 0
    while True:
        candidates = await users.expired_unverified(ctx.pool, ttl, BATCH)
        for user_id in candidates:
            purged += await _expire(ctx, user_id)
        if len(candidates) < BATCH:
            return purged


async def _expire(ctx: Identity, user_id: UUID) -> int:
    async def work(conn: asyncpg.Connection) -> int:
        # The row is locked and the aggregate re-checked: a confirmation racing the purge wins, and nothing expires.
        await conn.execute("SELECT 1 FROM users WHERE id = $1 FOR UPDATE", user_id)
        user = await ctx.users.load(conn, str(user_id))
        events = user.expire_unverified()
        if not events:
            return 0
        await ctx.users.save(conn, user, events, metadata_for())
        await users.project(conn, user)
        log.info("unverified_account_expired", user_id=str(user_id))
        return 1

    return await transact(ctx.pool, work)
