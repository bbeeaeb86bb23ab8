"""`python -m notifications api|worker|migrate`."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys

import asyncpg
import uvicorn

from casefold_platform.logging import configure_logging
from casefold_platform.metrics import serve_metrics
from notifications.config import Settings
from notifications.main import apply_migrations, create_app
from notifications.worker import Worker

USAGE = "usage: python -m notifications api|worker|migrate"


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
    else:
        print(USAGE, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
