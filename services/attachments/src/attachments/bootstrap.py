"""The composition root: the pool, the storage backend and the worker's parts, built once from Settings. The API app
(main.py), the worker and the command line (__main__.py) all take them from here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import asyncpg

from attachments.adapters.fs_storage import FilesystemStorage
from attachments.adapters.s3_storage import open_s3_storage
from attachments.adapters.storage import Storage
from attachments.config import Settings
from attachments.worker import Worker
from casefold_events.migrate import migrate, package_migrations, shared_migrations
from casefold_platform.database import create_pool


async def apply_migrations(settings: Settings) -> list[str]:
    """The shared tables (idempotency, consumer offsets), then the attachments tables; the names applied now."""
    return await migrate(settings.database_url, [shared_migrations(), package_migrations("attachments")])


@asynccontextmanager
async def open_storage(settings: Settings) -> AsyncIterator[Storage]:
    """The backend ATTACHMENTS_STORAGE_BACKEND names; an S3 client lives as long as the context."""
    if settings.storage_backend == "filesystem":
        yield FilesystemStorage(settings.storage_dir, fsync=settings.storage_fsync)
        return
    secret = settings.s3_secret_access_key.get_secret_value() if settings.s3_secret_access_key else None
    async with open_s3_storage(
        settings.s3_endpoint_url,
        settings.s3_bucket,
        region=settings.s3_region,
        access_key_id=settings.s3_access_key_id,
        secret_access_key=secret,
        part_bytes=settings.s3_part_bytes,
        create_bucket=settings.s3_create_bucket or settings.environment != "production",
    ) as storage:
        yield storage


@dataclass(frozen=True)
class Service:
    """Everything the attachments processes share: one pool and one storage backend."""

    settings: Settings
    pool: asyncpg.Pool
    storage: Storage

    def workers(self) -> Worker:
        """The worker's jobs: the case-events consumer, then the cleanup loop (stopped in reverse)."""
        return Worker(self.settings, self.pool, self.storage)


@asynccontextmanager
async def open_service(settings: Settings, pool: asyncpg.Pool | None = None) -> AsyncIterator[Service]:
    """The Service over the given pool (or one of its own, closed on exit) and the configured storage backend."""
    async with AsyncExitStack() as stack:
        if pool is None:
            pool = await create_pool(settings)
            stack.push_async_callback(pool.close)
        storage = await stack.enter_async_context(open_storage(settings))
        yield Service(settings, pool, storage)


@asynccontextmanager
async def open_worker(settings: Settings, pool: asyncpg.Pool) -> AsyncIterator[Worker]:
    """The worker command's parts, over the pool the shared worker runner made."""
    async with open_service(settings, pool) as service:
        yield service.workers()
