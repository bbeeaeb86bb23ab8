"""Deleting a content-addressed blob safely: only when no row references it, under the blob's lock."""

from __future__ import annotations

import contextlib

import asyncpg
import structlog

from attachments.adapters import repository as repo
from attachments.adapters.storage import Storage

log = structlog.get_logger("attachments.blobs")


async def release_blob(pool: asyncpg.Pool, storage: Storage, sha256: str, key: str) -> bool:
    """Delete the blob if nothing references it any more; best effort (the next cleanup retries). True if deleted."""
    with contextlib.suppress(Exception):
        async with pool.acquire() as conn, conn.transaction():
            await repo.lock_blob(conn, sha256)
            if await repo.key_referenced(conn, key):
                return False
            await storage.delete(key)
            return True
    log.warning("blob_release_failed", storage_key=key)
    return False
