"""`python -m cases api|worker|migrate|rebuild-read-model`."""

from __future__ import annotations

import argparse
import asyncio

import structlog

from casefold_platform.logging import configure_logging
from casefold_platform.tracing import configure_tracing
from cases.config import Settings

log = structlog.get_logger("cases")


async def _migrate(settings: Settings) -> None:
    from cases.adapters.database import apply_migrations

    log.info("migrations_applied", applied=await apply_migrations(settings))


async def _rebuild(settings: Settings) -> None:
    from cases.adapters.database import create_pool
    from cases.adapters.rebuild import rebuild_read_model

    pool = await create_pool(settings)
    try:
        log.info("read_model_rebuilt", events=await rebuild_read_model(pool))
    finally:
        await pool.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m cases")
    parser.add_argument("command", choices=["api", "worker", "migrate", "rebuild-read-model"])
    args = parser.parse_args(argv)
    settings = Settings()
    configure_logging("cases", settings.log_level)
    configure_tracing("cases")
    if args.command == "api":
        import uvicorn

        from cases.main import create_app

        uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)
    elif args.command == "worker":
        from cases.worker import run_worker

        asyncio.run(run_worker(settings))
    elif args.command == "migrate":
        asyncio.run(_migrate(settings))
    else:
        asyncio.run(_rebuild(settings))


if __name__ == "__main__":
    main()
