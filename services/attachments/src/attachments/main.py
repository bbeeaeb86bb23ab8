"""The attachments service's app factory (served with `uvicorn --factory attachments.main:create_app`)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI

from attachments.adapters.storage import Storage
from attachments.api.internal import internal
from attachments.api.routes import router
from attachments.bootstrap import apply_migrations, open_service
from attachments.config import Settings
from casefold_platform.app import database_ready, service_app
from casefold_platform.auth import JwksVerifier

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


async def _storage_ready(app: FastAPI) -> None:
    storage: Storage = app.state.storage
    await storage.exists(storage.key_for(EMPTY_SHA256))


def create_app(settings: Settings | None = None, *, verifier: JwksVerifier | None = None) -> FastAPI:
    """Build the attachments app; pools and clients are created in the lifespan, never at import time."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            if settings.migrate_on_start:
                await apply_migrations(settings)
            service = await stack.enter_async_context(open_service(settings))
            app.state.pool = service.pool
            app.state.storage = service.storage
            if settings.workers_in_process:
                worker = service.workers()
                await worker.start()
                stack.push_async_callback(worker.stop)
                app.state.worker = worker
            yield

    app = service_app(
        "attachments",
        readiness=[("database", database_ready), ("storage", _storage_ready)],
        max_body_bytes=settings.max_request_bytes,
        lifespan=lifespan,
        log_level=settings.log_level,
    )
    app.state.settings = settings
    app.state.jwt_verifier = verifier or settings.jwt_verifier()
    app.include_router(router)
    app.include_router(internal)
    return app
