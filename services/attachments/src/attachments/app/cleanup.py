"""Collecting uploads that were never linked to a case, and the blobs nobody references any more."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import structlog

from attachments.adapters import repository as repo
from attachments.adapters.storage import Storage

log = structlog.get_logger("attachments.cleanup")


async def collect_unlinked(
    pool: asyncpg.Pool, storage: Storage, *, older_than: timedelta, now: datetime | None = None, batch: int = 100
) -> int:
    """Delete unlinked uploads older than older_than (and their blobs when unshared); returns how many rows went."""
    before = (now or datetime.now(UTC)) - older_than
    removed = 0
    while True:
        async with pool.acquire() as conn:
            expired = await repo.expired_unlinked(conn, before, batch)
        if not expired:
            return removed
        for attachment_id, sha256 in expired:
            async with pool.acquire() as conn, conn.transaction():
                await repo.lock_blob(conn, sha256)
                # A link may have arrived since the select: the delete re-checks under the row's own lock.
                key = await repo.delete_if_unlinked(conn, attachment_id)
                if key is None:
                    continue
                removed += 1
                if not await repo.key_referenced(conn, key):
                    # Inside the transaction: if the delete fails, the row stays and the next run retries.
                    await storage.delete(key)
        log.info("unlinked_uploads_collected", count=removed)
        if len(expired) < batch:
            return removed
