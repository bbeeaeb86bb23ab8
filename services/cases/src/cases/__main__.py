"""`python -m cases api|worker|migrate|rebuild-read-model|reset-user-directory`."""

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


async def _reset_directory(settings: Settings) -> None:
    from cases.adapters.database import create_pool
    from cases.consumers import reset_user_directory

    pool = await create_pool(settings)
    try:
        partitions = await reset_user_directory(settings, pool)
        log.info("user_directory_reset", group=settings.consumer_name, topic=settings.identity_topic,
                 partitions=partitions)  # fmt: skip
    finally:
        await pool.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m cases")
    parser.add_argument("command", choices=["api", "worker", "migrate", "rebuild-read-model", "reset-user-directory"])
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
    elif args.command == "rebuild-read-model":
        asyncio.run(_rebuild(settings))
    else:
        asyncio.run(_reset_directory(settings))


if __name__ == "__main__":
    main()
