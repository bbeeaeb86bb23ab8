"""The background work: the case-events consumer and the periodic cleanup of unlinked uploads."""

from __future__ import annotations

import asyncpg
import structlog

from attachments.adapters.consumer_progress import KafkaConsumerProgress
from attachments.adapters.storage import Storage
from attachments.app.cleanup import Collection, collect_unlinked
from attachments.config import Settings
from attachments.consumers import case_events_consumer
from casefold_events.loops import BackgroundLoop
from casefold_platform.worker import Parts

log = structlog.get_logger("attachments.worker")
# A temporary is in use only for the length of one upload request (the gateway allows 300 s): a day is safe.
STALE_TEMPORARY_SECONDS = 24 * 3600


class CleanupLoop(BackgroundLoop):
    """Every cleanup_interval_seconds: unlinked uploads past their time, and stale temporaries (files, objects and
    multipart uploads a crashed process left behind)."""

    task_name = "attachments-cleanup"

    def __init__(self, settings: Settings, pool: asyncpg.Pool, storage: Storage) -> None:
        super().__init__()
        self.settings = settings
        self.pool = pool
        self.storage = storage
        self.progress = KafkaConsumerProgress(
            settings.kafka_bootstrap_servers, settings.consumer_name, settings.cases_topic, settings.kafka_options()
        )

    async def cleanup_once(self) -> Collection:
        collection = await collect_unlinked(
            self.pool, self.storage, self.progress,
            older_than=self.settings.unlinked_ttl + self.settings.cleanup_grace,
            purge_grace=self.settings.cleanup_purge_grace,
        )  # fmt: skip
        await self.storage.stale_temporaries(older_than_seconds=STALE_TEMPORARY_SECONDS)
        return collection

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
