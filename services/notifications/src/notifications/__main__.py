"""`python -m notifications api|worker|migrate|redrive`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from datetime import datetime
from uuid import UUID

import asyncpg
import uvicorn

from casefold_events.platform.logging import configure_logging
from casefold_events.platform.metrics import serve_metrics
from notifications.adapters import outbox
from notifications.config import Settings
from notifications.main import apply_migrations, create_app
from notifications.worker import Worker

USAGE = "usage: python -m notifications api|worker|migrate|redrive [--id EMAIL_ID ...] [--since TIME]"


async def _redrive(settings: Settings, argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m notifications redrive", description="Queue failed emails again (all of them unless narrowed)."
    )
    parser.add_argument("--id", dest="ids", type=UUID, action="append", default=[], help="an email id (repeatable)")
    parser.add_argument("--since", type=datetime.fromisoformat, help="only emails created at or after this time")
    args = parser.parse_args(argv)
    conn = await asyncpg.connect(settings.database_url)
    try:
        result = await outbox.redrive(conn, args.ids, args.since)
    finally:
        await conn.close()
    print(f"queued again: {len(result.queued)}")
    for email_id in result.queued:
        print(f"  {email_id}")
    if result.dead_links:
        print(f"left failed: {result.dead_links} account email(s) whose single-use link is gone; "
              "the user asks for a new one (resend / forgot password)")  # fmt: skip
    return 0


async def _run_worker(settings: Settings) -> None:
    if settings.migrate_on_start:
        await apply_migrations(settings)
    if settings.metrics_port is not None:
        serve_metrics(settings.metrics_port)
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=settings.pool_max_size)
    worker = Worker(settings, pool)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await worker.start()
    try:
        await stop.wait()
    finally:
        await worker.stop()
        await pool.close()


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "api"
    settings = Settings()
    configure_logging("notifications", settings.log_level)
    if command == "api":
        uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)
    elif command == "worker":
        asyncio.run(_run_worker(Settings(run_workers=False)))
    elif command == "migrate":
        for name in asyncio.run(apply_migrations(settings)):
            print(name)
    elif command == "redrive":
        return asyncio.run(_redrive(settings, argv[2:]))
    else:
        print(USAGE, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
