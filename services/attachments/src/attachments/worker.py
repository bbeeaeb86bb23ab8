"""The background work: the case-events consumer and the periodic cleanup of unlinked uploads."""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg
import structlog

from attachments.adapters.fs_storage import FilesystemStorage
from attachments.adapters.storage import Storage
from attachments.app.cleanup import collect_unlinked
from attachments.config import Settings
from attachments.consumers import case_events_consumer

log = structlog.get_logger("attachments.worker")


class Worker:
    """Start/stop the consumer and the cleanup loop together."""

    def __init__(self, settings: Settings, pool: asyncpg.Pool, storage: Storage) -> None:
        self.settings = settings
        self.pool = pool
        self.storage = storage
        self.consumer = case_events_consumer(settings, pool)
        self._cleanup: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.consumer.start()
        self._cleanup = asyncio.create_task(self._cleanup_loop(), name="attachments-cleanup")

    async def stop(self) -> None:
        if self._cleanup is not None:
            self._cleanup.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._cleanup
        await self.consumer.stop()

    async def cleanup_once(self) -> int:
        removed = await collect_unlinked(
            self.pool, self.storage, older_than=self.settings.unlinked_ttl + self.settings.cleanup_grace
        )
        if isinstance(self.storage, FilesystemStorage):
            await self.storage.stale_temporaries(older_than_seconds=24 * 3600)
        return removed

    async def _cleanup_loop(self) -> None:
        while True:
            try:
                await self.cleanup_once()
            except Exception as exc:
                # The next round retries; nothing is lost by waiting (rows stay until their blob is gone).
                log.warning("cleanup_failed", error=type(exc).__name__, detail=str(exc)[:300])
            await asyncio.sleep(self.settings.cleanup_interval_seconds)
