"""`python -m notifications api|worker|migrate`: the HTTP API, the background worker, the migrations."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from casefold_platform.cli import Command, run_cli
from casefold_platform.commands import api_command, migrate_command, worker_command
from notifications.config import Settings
from notifications.main import apply_migrations, create_app
from notifications.worker import Worker


@asynccontextmanager
async def open_worker(settings: Settings, pool: asyncpg.Pool) -> AsyncIterator[Worker]:
    yield Worker(settings, pool)


COMMANDS: list[Command[Settings]] = [
    api_command(create_app, "serve the HTTP API (activity history, probes, /metrics)"),
    worker_command(
        apply_migrations, open_worker, "consume events into emails and deliver them over SMTP, until SIGTERM"
    ),
    migrate_command(apply_migrations),
]


def main(argv: list[str] | None = None) -> int:
    return run_cli("notifications", __doc__ or "", COMMANDS, Settings, argv)


if __name__ == "__main__":
    sys.exit(main())
