"""`python -m attachments api|worker|migrate`: the HTTP API, the background worker, the migrations."""

from __future__ import annotations

import argparse
import sys

import asyncpg
import uvicorn

from attachments.adapters.storage_factory import open_storage
from attachments.config import Settings
from attachments.main import apply_migrations, create_app
from attachments.worker import Worker
from casefold_platform.cli import Command, run_cli
from casefold_platform.metrics import serve_metrics
from casefold_platform.worker import run_until_signalled


def _api(settings: Settings, _: argparse.Namespace) -> None:
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)


async def _worker(settings: Settings, _: argparse.Namespace) -> None:
    if settings.migrate_on_start:
        await apply_migrations(settings)
    if settings.metrics_port is not None:
        serve_metrics(settings.metrics_port)
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=settings.pool_max_size)
    try:
        async with open_storage(settings) as storage:
            await run_until_signalled(Worker(settings, pool, storage))
    finally:
        await pool.close()


async def _migrate(settings: Settings, _: argparse.Namespace) -> None:
    print("\n".join(await apply_migrations(settings)) or "nothing to apply")


COMMANDS = [
    Command("api", "serve the HTTP API (uploads, downloads, probes, /metrics)", _api),
    Command("worker", "consume case events and collect unlinked uploads, until SIGTERM", _worker),
    Command("migrate", "apply the database migrations and exit", _migrate),
]


def main(argv: list[str] | None = None) -> int:
    return run_cli("attachments", __doc__ or "", COMMANDS, Settings, argv)


if __name__ == "__main__":
    sys.exit(main())
