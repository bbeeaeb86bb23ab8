"""The commands every service has, built from its parts: `api`, `worker`, `migrate` and `dead-letters`."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager

import asyncpg
import uvicorn
from starlette.types import ASGIApp

from casefold_platform.cli import Command, S
from casefold_platform.database import create_pool
from casefold_platform.dead_letters import dead_letters_command
from casefold_platform.health import serve_liveness
from casefold_platform.metrics import serve_metrics
from casefold_platform.worker import Part, run_until_signalled

__all__ = ["api_command", "dead_letters_command", "migrate_command", "worker_command"]

Migrations = Callable[[S], Awaitable[list[str]]]
WorkerFactory = Callable[[S, asyncpg.Pool], AbstractAsyncContextManager[Part]]


def api_command(create_app: Callable[[S], ASGIApp], help: str) -> Command[S]:
    """`api`: serve the app the factory builds, with uvicorn, on the settings' host and port."""

    def api(settings: S, _: argparse.Namespace) -> None:
        uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)

    return Command("api", help, api)


def worker_command(apply_migrations: Migrations[S], open_worker: WorkerFactory[S], help: str) -> Command[S]:
    """`worker`: migrations where the settings ask, /metrics on metrics_port, then the worker until SIGTERM."""

    async def worker(settings: S, _: argparse.Namespace) -> None:
        if settings.migrate_on_start:
            await apply_migrations(settings)
        if settings.metrics_port is not None:
            serve_metrics(settings.metrics_port)
        liveness = await serve_liveness(settings.health_port) if settings.health_port is not None else None
        pool = await create_pool(settings, min_size=1)
        try:
            async with open_worker(settings, pool) as part:
                await run_until_signalled(part)  # raises LoopDied (exit 1) when one of its loops died
        finally:
            await pool.close()
            if liveness is not None:
                liveness.close()

    return Command("worker", help, worker, trace_suffix="-worker")


def migrate_command(apply_migrations: Migrations[S]) -> Command[S]:
    """`migrate`: apply the migrations, print what was applied, exit."""

    async def migrate(settings: S, _: argparse.Namespace) -> None:
        print("\n".join(await apply_migrations(settings)) or "nothing to apply")

    return Command("migrate", "apply the database migrations and exit", migrate)
