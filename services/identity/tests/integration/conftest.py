"""One real identity server per test module, on the module's fresh database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio
from identity_builders import running_server, settings_for

from identity.config import Settings


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def settings(database: str) -> Settings:
    return settings_for(database)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def base_url(settings: Settings) -> AsyncIterator[str]:
    async with running_server(settings) as url:
        yield url


@pytest_asyncio.fixture(loop_scope="session")
async def client(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        yield http
