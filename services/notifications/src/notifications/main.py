"""The notifications service's app factory (served with `uvicorn --factory notifications.main:create_app`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from casefold_platform.app import database_ready, service_app
from casefold_platform.database import create_pool
from notifications.api.routes import router
from notifications.bootstrap import Worker, apply_migrations
from notifications.config import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the notifications app; the pool and workers are created in the lifespan, never at import time."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.migrate_on_start:
            await apply_migrations(settings)
        pool = await create_pool(settings)
        app.state.pool = pool
        # Tests may set app.state.cases_client / attachments_client (clients of their own apps) before the lifespan.
        cases, attachments = getattr(app.state, "cases_client", None), getattr(app.state, "attachments_client", None)
        worker = Worker(settings, pool, cases, attachments) if settings.workers_in_process else None
        app.state.worker = worker
        try:
            if worker is not None:
                await worker.start()
            yield
        finally:
            if worker is not None:
                await worker.stop()
            await pool.close()

    app = service_app(
        "notifications", readiness=[("database", database_ready)], lifespan=lifespan, log_level=settings.log_level
    )
    app.state.settings = settings
    app.state.jwt_verifier = settings.jwt_verifier()
    app.include_router(router)
    return app
