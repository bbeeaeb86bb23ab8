"""The shared api/worker/migrate commands against a real PostgreSQL: migrations once, a worker until SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import pytest
from pydantic_settings import SettingsConfigDict

from casefold_events.migrate import migrate, shared_migrations
from casefold_platform.commands import migrate_command, worker_command
from casefold_platform.settings import ServiceSettings

pytestmark = pytest.mark.integration
NO_ARGS = argparse.Namespace()


class DemoSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DEMO_", extra="ignore")


async def apply(settings: DemoSettings) -> list[str]:
    return await migrate(settings.database_url, [shared_migrations()])


def coroutine(outcome: object) -> Coroutine[Any, Any, Any]:
    assert isinstance(outcome, Coroutine)
    return outcome


async def test_migrate_applies_once_and_says_so(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    command = migrate_command(apply)
    await coroutine(command.run(DemoSettings(database_url=database), NO_ARGS))
    first = capsys.readouterr().out
    await coroutine(command.run(DemoSettings(database_url=database), NO_ARGS))

    assert first.strip()
    assert first.strip() != "nothing to apply"
    assert capsys.readouterr().out == "nothing to apply\n"


async def test_the_worker_runs_on_a_live_pool_until_sigterm(database: str) -> None:
    seen: list[str] = []

    class Probe:
        def __init__(self, pool: asyncpg.Pool) -> None:
            self.pool = pool

        async def start(self) -> None:
            seen.append(f"start {await self.pool.fetchval('SELECT 1')}")

        async def stop(self) -> None:
            seen.append("stop")

    @asynccontextmanager
    async def open_worker(settings: DemoSettings, pool: asyncpg.Pool) -> AsyncIterator[Probe]:
        yield Probe(pool)
        seen.append("closed")

    settings = DemoSettings(database_url=database, environment="development")  # development migrates on start
    running = asyncio.create_task(coroutine(worker_command(apply, open_worker, "probe").run(settings, NO_ARGS)))
    while not seen:
        await asyncio.sleep(0.05)
    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.wait_for(running, timeout=10)

    assert seen == ["start 1", "stop", "closed"]
    conn = await asyncpg.connect(database)
    try:
        assert await conn.fetchval("SELECT count(*) FROM schema_migrations") > 0
    finally:
        await conn.close()
