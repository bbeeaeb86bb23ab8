"""Rebuild the users read model from the event store (while the service keeps serving)."""

from __future__ import annotations

from identity.adapters import users
from identity.app.common import Identity
from identity.domain.model import STREAM_TYPE

USER_STREAMS = "SELECT DISTINCT stream_id FROM events WHERE stream_type = $1 ORDER BY stream_id"


async def rebuild_users(ctx: Identity) -> int:
    """Re-project every user from its stream, one transaction each; returns how many were written."""
    stream_ids = [r["stream_id"] for r in await ctx.pool.fetch(USER_STREAMS, STREAM_TYPE)]
    for stream_id in stream_ids:
        async with ctx.pool.acquire() as conn, conn.transaction():
            # Lock the row so that a concurrent command's projection is not overwritten by an older fold.
            await conn.execute("SELECT 1 FROM users WHERE id = $1::uuid FOR UPDATE", stream_id)
            await users.project(conn, await ctx.users.load(conn, stream_id))
    return len(stream_ids)
