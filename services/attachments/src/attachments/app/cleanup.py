"""Collecting uploads that were never linked to a case, and the blobs nobody references any more.

An upload may be referenced by a case event until its receipt expires (`older_than` covers the receipt's TTL and a
grace for events in flight). Such an event can still be on its way long after that: in cases' outbox while Kafka is
down, or unread on a partition this consumer is stuck on. So nothing is collected unless the consumer group is
caught up (lag 0, asked of Kafka), and the cut-off runs from the latest case event applied here (the relay publishes
in outbox order, so everything older is in), not from the clock. Then collection is in two steps: an upload is
marked first and deleted, bytes and all, only `purge_grace` later; a link arriving in between clears the mark.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

import asyncpg
import structlog

from attachments.adapters import repository as repo
from attachments.adapters.storage import Storage

log = structlog.get_logger("attachments.cleanup")


class ConsumerProgress(Protocol):
    """The case-events consumer's lag: 0 when caught up, None when it cannot be known."""

    async def lag(self) -> int | None: ...


@dataclass(frozen=True)
class Collection:
    """One round: uploads marked, uploads deleted, and why the round did nothing (None when it ran)."""

    marked: int = 0
    purged: int = 0
    held_back: str | None = None


async def collect_unlinked(
    pool: asyncpg.Pool,
    storage: Storage,
    progress: ConsumerProgress,
    *,
    older_than: timedelta,
    purge_grace: timedelta,
    now: datetime | None = None,
    batch: int = 100,
) -> Collection:
    """Mark unlinked uploads past their time, delete those marked purge_grace ago (their blobs when unshared)."""
    now = now or datetime.now(UTC)
    # Read before asking for the lag: a lag of 0 afterwards means every event up to this one has been applied.
    async with pool.acquire() as conn:
        applied = await repo.applied_until(conn)
    if applied is None:
        return _held_back("no case event applied yet")
    lag = await progress.lag()
    if lag is None:
        return _held_back("the consumer's lag is unknown")
    if lag > 0:
        return _held_back(f"the consumer's lag is {lag}")
    uploaded_before = min(now, applied) - older_than
    async with pool.acquire() as conn:
        marked = await repo.mark_for_collection(conn, uploaded_before, now + purge_grace)
    purged = await _purge(pool, storage, uploaded_before, now, batch)
    if marked or purged:
        log.info("unlinked_uploads_collected", marked=marked, purged=purged)
    return Collection(marked, purged)


def _held_back(reason: str) -> Collection:
    log.info("collection_held_back", reason=reason)
    return Collection(held_back=reason)


async def _purge(pool: asyncpg.Pool, storage: Storage, uploaded_before: datetime, now: datetime, batch: int) -> int:
    removed = 0
    while True:
        async with pool.acquire() as conn:
            due = await repo.due_for_collection(conn, uploaded_before, now, batch)
        for attachment_id, sha256 in due:
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
        if len(due) < batch:
            return removed
