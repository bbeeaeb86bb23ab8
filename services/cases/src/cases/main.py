"""The cases service's app factory (served with `uvicorn --factory cases.main:create_app`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI

from casefold_events.loops import BackgroundLoop
from casefold_platform.app import database_ready, service_app
from cases import wiring
from cases.adapters.database import apply_migrations, create_pool
from cases.api.internal import internal
from cases.api.problems import problem_json_only
from cases.api.routes import router
from cases.config import Settings
from cases.consumers import identity_events_consumer

log = structlog.get_logger("cases")


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the cases app; pools and clients are created in the lifespan, never at import time."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.migrate_on_start:
            applied = await apply_migrations(settings)
            if applied:
                log.info("migrations_applied", applied=applied)
        pool = await create_pool(settings)
        app.state.pool = pool
        app.state.commands = wiring.command_deps(settings, pool)
        app.state.queries = wiring.query_deps(settings, pool)
        # Under development the worker's jobs run here: the outbox relay and the user-directory consumer.
        workers: list[BackgroundLoop] = (
            [wiring.outbox_relay(settings), identity_events_consumer(settings, pool)]
            if settings.workers_in_process
            else []
        )
        for worker in workers:
            await worker.start()
        try:
            yield
        finally:
            for worker in reversed(workers):
                await worker.stop()
            await pool.close()

    app = service_app(
        "cases",
        readiness=[("database", database_ready)],
        max_body_bytes=settings.max_body_bytes,
        lifespan=lifespan,
        description="Support cases: open, comment, attach, close; my cases with search; time travel.",
    )
    app.state.settings = settings
    # Building the verifier fetches nothing (keys and the revocation list are fetched on demand); tests may replace
    # it with one over their own key set.
    app.state.jwt_verifier = settings.jwt_verifier()
    app.include_router(router)
    app.include_router(internal)
    problem_json_only(app)
    return app
