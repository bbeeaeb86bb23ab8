"""The whole system for one test session: inbox, four services and the gateway on free ports, private state."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import pytest_asyncio
from e2e.e2e_steps import CreateAdmin
from e2e.e2e_system import admin_creator, private_layout, running_system

from casefold_local.procs import free_port
from casefold_local.stack import Layout
from casefold_local.system import System
from casefold_local.traceviewer import Receiver, receiving


@pytest.fixture(scope="session")
def otlp_receiver() -> Iterator[Receiver]:
    """A real OTLP/HTTP receiver in this process: every service and the gateway of the e2e system export to it."""
    with receiving(free_port()) as receiver:
        yield receiver


@pytest.fixture(scope="session")
def e2e_layout(
    postgres_admin_dsn: str, kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory, otlp_receiver: Receiver
) -> Layout:
    state = tmp_path_factory.mktemp("e2e-system")
    return private_layout(postgres_admin_dsn, kafka_bootstrap, state, "e2e", otlp_endpoint=otlp_receiver.url)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def e2e_system(e2e_layout: Layout) -> AsyncIterator[System]:
    async with running_system(e2e_layout) as system:
        yield system


@pytest_asyncio.fixture(loop_scope="session")
async def gateway(e2e_system: System) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client that talks to the gateway only."""
    async with httpx.AsyncClient(base_url=e2e_system.layout.gateway_url, timeout=30) as client:
        yield client


@pytest_asyncio.fixture(loop_scope="session")
async def inbox(e2e_system: System) -> AsyncIterator[httpx.AsyncClient]:
    """The dev inbox's HTTP API (what a person reads in the browser)."""
    async with httpx.AsyncClient(base_url=e2e_system.layout.mail_url, timeout=10) as client:
        yield client


@pytest.fixture(scope="session")
def create_admin(e2e_system: System) -> CreateAdmin:
    """`python -m identity create-admin` against this system's identity database, as an operator would run it."""
    return admin_creator(e2e_system)
