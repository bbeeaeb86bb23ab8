"""The background work: the case-events consumer and the periodic cleanup of unlinked uploads."""

from __future__ import annotations

import asyncpg
import structlog

from attachments.adapters.fs_storage import FilesystemStorage
from attachments.adapters.storage import Storage
from attachments.app.cleanup import collect_unlinked
from attachments.config import Settings
from attachments.consumers import case_events_consumer
from casefold_events.loops import BackgroundLoop
from casefold_platform.worker import Parts

log = structlog.get_logger("attachments.worker")


class CleanupLoop(BackgroundLoop):
    """Every cleanup_interval_seconds: unlinked uploads past their time, and stale temporary files."""

    task_name = "attachments-cleanup"

    def __init__(self, settings: Settings, pool: asyncpg.Pool, storage: Storage) -> None:
        super().__init__()
        self.settings = settings
        self.pool = pool
        self.storage = storage

    async def cleanup_once(self) -> int:
        removed = await collect_unlinked(
            self.pool, self.storage, older_than=self.settings.unlinked_ttl + self.settings.cleanup_grace
        )
        if isinstance(self.storage, FilesystemStorage):
            await self.storage.stale_temporaries(older_than_seconds=24 * 3600)
        return removed

    async def run(self) -> None:
        while not self.stopping:
            try:
                await self.cleanup_once()
            except Exception as exc:
                # The next round retries; nothing is lost by waiting (rows stay until their blob is gone).
                log.warning("cleanup_failed", error=type(exc).__name__, detail=str(exc)[:300])
            if await self.pause(self.settings.cleanup_interval_seconds, wakeable=False):
                return


class Worker(Parts):
    """The consumer and the cleanup loop, started in that order and stopped in reverse."""

    def __init__(self, settings: Settings, pool: asyncpg.Pool, storage: Storage) -> None:
        self.consumer = case_events_consumer(settings, pool)
        self.cleanup = CleanupLoop(settings, pool, storage)
        super().__init__(self.consumer, self.cleanup)
