"""The cases service's app factory (served with `uvicorn --factory cases.main:create_app`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI

from casefold_platform.app import database_ready, service_app
from cases.api import clock as clock_api
from cases.api.agent_routes import agent_router
from cases.api.internal import internal
from cases.api.problems import command_fields_in_body
from cases.api.routes import router
from cases.bootstrap import apply_migrations, build, create_pool
from cases.config import Settings
from cases.domain.clock import Clock

log = structlog.get_logger("cases")


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> FastAPI:
    """Build the cases app; pools and clients are created in the lifespan, never at import time. Tests may pass
    the clock (the one of bootstrap.build otherwise)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.migrate_on_start:
            applied = await apply_migrations(settings)
            if applied:
                log.info("migrations_applied", applied=applied)
        pool = await create_pool(settings)
        service = build(settings, pool, clock)
        app.state.pool = pool
        app.state.clock = service.clock
        app.state.commands = service.commands
        app.state.queries = service.queries
        # Under development the worker's jobs run here: the outbox relay and the user-directory consumer.
        workers = service.workers() if settings.workers_in_process else None
        app.state.wake_sla_worker = service.sla_worker.wake if workers is not None else lambda: None
        try:
            if workers is not None:
                await workers.start()
            yield
        finally:
            if workers is not None:
                await workers.stop()
            await service.commands.doorbell.close()
            await pool.close()

    app = service_app(
        "cases",
        readiness=[("database", database_ready)],
        max_body_bytes=settings.max_body_bytes,
        lifespan=lifespan,
        log_level=settings.log_level,
        description="Support cases: open, comment, attach, close; my cases with search; time travel.",
    )
    app.state.settings = settings
    # Building the verifier fetches nothing (keys and the revocation list are fetched on demand); tests may replace
    # it with one over their own key set.
    app.state.jwt_verifier = settings.jwt_verifier()
    app.include_router(agent_router)  # first: /queue and /agents before /{case_id}
    app.include_router(router)
    app.include_router(internal)
    if settings.controllable_clock:
        clock_api.install(app)
    command_fields_in_body(app)
    return app
