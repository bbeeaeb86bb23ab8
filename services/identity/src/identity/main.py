"""The identity service's app factory (served with `uvicorn --factory identity.main:create_app`)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from casefold_platform.app import database_ready, service_app
from casefold_platform.database import create_pool
from casefold_platform.logging import configure_logging
from identity.api.openapi import serve_problems_as_problem_json
from identity.api.routes import internal, router
from identity.bootstrap import apply_migrations, build_identity, ensure_signing_key
from identity.config import Settings
from identity.workers import Workers

MAX_BODY_BYTES = 16 * 1024


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the identity app; pools and clients are created in the lifespan, never at import time."""
    settings = settings or Settings()
    configure_logging("identity", settings.log_level)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.migrate_on_start:
            await apply_migrations(settings)
        pool = await create_pool(settings)
        workers = Workers(settings, pool)
        try:
            await ensure_signing_key(settings, pool)
            app.state.identity = build_identity(settings, pool)
            app.state.pool = pool
            if settings.workers_in_process:
                await workers.start()
            yield
        finally:
            await workers.stop()
            await pool.close()

    app = service_app(
        "identity", readiness=[("database", database_ready)], max_body_bytes=MAX_BODY_BYTES, lifespan=lifespan
    )
    app.include_router(router)
    app.include_router(internal)
    serve_problems_as_problem_json(app)
    return app
