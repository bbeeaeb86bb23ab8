"""`python -m notifications api|worker|migrate`: the HTTP API, the background worker, the migrations."""

from __future__ import annotations

import argparse
import sys

import asyncpg
import uvicorn

from casefold_platform.cli import Command, run_cli
from casefold_platform.metrics import serve_metrics
from casefold_platform.worker import run_until_signalled
from notifications.config import Settings
from notifications.main import apply_migrations, create_app
from notifications.worker import Worker


def _api(settings: Settings, _: argparse.Namespace) -> None:
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)


async def _worker(settings: Settings, _: argparse.Namespace) -> None:
    if settings.migrate_on_start:
        await apply_migrations(settings)
    if settings.metrics_port is not None:
        serve_metrics(settings.metrics_port)
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=settings.pool_max_size)
    try:
        await run_until_signalled(Worker(settings, pool))
    finally:
        await pool.close()


async def _migrate(settings: Settings, _: argparse.Namespace) -> None:
    for name in await apply_migrations(settings):
        print(name)


COMMANDS = [
    Command("api", "serve the HTTP API (activity history, probes, /metrics)", _api),
    Command("worker", "consume events into emails and deliver them over SMTP, until SIGTERM", _worker),
    Command("migrate", "apply the database migrations and exit", _migrate),
]


def main(argv: list[str] | None = None) -> int:
    return run_cli("notifications", __doc__ or "", COMMANDS, Settings, argv)


if __name__ == "__main__":
    sys.exit(main())
