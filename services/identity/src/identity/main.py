"""The identity service's app factory (served with `uvicorn --factory identity.main:create_app`)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import structlog
from fastapi import FastAPI

from casefold_platform.app import database_ready, service_app
from casefold_platform.database import create_pool
from identity.api.routes import internal, router
from identity.bootstrap import apply_migrations, build, ensure_signing_key, refresh_display_keys
from identity.config import Settings

log = structlog.get_logger("identity")
MAX_BODY_BYTES = 16 * 1024


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the identity app; pools and clients are created in the lifespan, never at import time."""
    settings = settings or Settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.migrate_on_start:
            applied = await apply_migrations(settings)
            if applied:
                log.info("migrations_applied", applied=applied)
        pool = await create_pool(settings)
        workers = None
        try:
            await ensure_signing_key(settings, pool)
            await refresh_display_keys(pool)
            service = build(settings, pool)
            app.state.identity = service.identity
            app.state.pool = pool
            # Under development the worker's jobs run here: the outbox relay and housekeeping.
            if settings.workers_in_process:
                workers = service.workers()
                await workers.start()
            yield
        finally:
            if workers is not None:
                await workers.stop()
            await pool.close()

    app = service_app(
        "identity", readiness=[("database", database_ready)], max_body_bytes=MAX_BODY_BYTES, lifespan=lifespan,
        log_level=settings.log_level,
    )  # fmt: skip
    app.state.settings = settings
    app.include_router(router)
    app.include_router(internal)
    return app
