"""`python -m attachments api|worker|migrate`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

import asyncpg
import uvicorn

from attachments.adapters.storage_factory import open_storage
from attachments.config import Settings
from attachments.main import apply_migrations, create_app
from attachments.worker import Worker
from casefold_platform.logging import configure_logging
from casefold_platform.metrics import serve_metrics
from casefold_platform.tracing import configure_tracing


async def _worker(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if settings.migrate_on_start:
        await apply_migrations(settings)
    if settings.metrics_port is not None:
        serve_metrics(settings.metrics_port)
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=settings.pool_max_size)
    try:
        async with open_storage(settings) as storage:
            worker = Worker(settings, pool, storage)
            await worker.start()
            try:
                await stop.wait()
            finally:
                await worker.stop()
    finally:
        await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="attachments")
    parser.add_argument("command", choices=["api", "worker", "migrate"])
    command = parser.parse_args().command
    settings = Settings()
    configure_logging("attachments", settings.log_level)
    configure_tracing("attachments")
    if command == "migrate":
        applied = asyncio.run(apply_migrations(settings))
        print("\n".join(applied) or "nothing to apply")
    elif command == "worker":
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_worker(settings))
    else:
        uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)


if __name__ == "__main__":
    main()
