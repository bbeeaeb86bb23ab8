"""The whole system for one test session: inbox, four services and the gateway on free ports, private state.

PostgreSQL and Kafka come from the casefold_testing plugin (a developer's `make up` stack when the environment names
it); this system gets its own databases, topic names and consumer groups there, so it never meets another one.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
import pytest_asyncio
from aiokafka.admin import AIOKafkaAdminClient
from e2e.e2e_steps import CreateAdmin

from casefold_local.procs import free_port
from casefold_local.stack import SERVICES, Layout, Service
from casefold_local.system import System


@pytest.fixture(scope="session")
def e2e_layout(postgres_admin_dsn: str, kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Layout:
    tag = uuid.uuid4().hex[:8]
    return Layout(
        state_dir=tmp_path_factory.mktemp("e2e-system"),
        database_server_dsn=postgres_admin_dsn,
        kafka_bootstrap=kafka_bootstrap,
        services=tuple(Service(s.name, free_port(), s.factory) for s in SERVICES),
        gateway_port=free_port(),
        gateway_admin_port=free_port(),
        smtp_port=free_port(),
        mail_http_port=free_port(),
        database_prefix=f"e2e_{tag}_",
        topic_prefix=f"e2e-{tag}.",
        environment="development",
    )


async def _drop_databases(layout: Layout) -> None:
    conn = await asyncpg.connect(layout.database_server_dsn, timeout=10)
    try:
        for service in layout.services:
            await conn.execute(f'DROP DATABASE IF EXISTS "{layout.database(service)}" WITH (FORCE)')
    finally:
        await conn.close()


async def _delete_topics(layout: Layout) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=layout.kafka_bootstrap)
    await admin.start()
    try:
        await admin.delete_topics(layout.topics())
    finally:
        await admin.close()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def e2e_system(e2e_layout: Layout) -> AsyncIterator[System]:
    """Started in a worker thread (the supervisor's pieces are synchronous); stopped and dropped on failure too."""
    system = System(e2e_layout, report=lambda line: print(line, file=sys.stderr))
    try:
        await asyncio.to_thread(system.start, 120)
        not_ready = [name for name, ready in system.ready.items() if not ready]
        if not_ready:
            logs = ", ".join(str(system.processes[n].log_file) for n in not_ready)
            pytest.fail(f"not ready within 120s: {', '.join(not_ready)}; see {logs}")
        yield system
    finally:
        await asyncio.to_thread(system.stop)
        with contextlib.suppress(Exception):
            await _drop_databases(e2e_layout)
        with contextlib.suppress(Exception):
            await _delete_topics(e2e_layout)


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

    def create(email: str, display_name: str, password: str) -> None:
        layout = e2e_system.layout
        env = {**layout.service_env(layout.service("identity")), "IDENTITY_ADMIN_PASSWORD": password}
        result = subprocess.run(
            [sys.executable, "-m", "identity", "create-admin", "--email", email, "--display-name", display_name],
            env={**os.environ, **env},
            capture_output=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, (result.stdout + result.stderr).decode(errors="replace")[-2000:]

    return create
