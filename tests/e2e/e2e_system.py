"""The whole system on free ports with private state: shared by the e2e and the browser tests' session fixtures.

PostgreSQL and Kafka come from the casefold_testing plugin (a developer's `make up` stack when the environment names
it); each system gets its own databases, topic names and consumer groups there, so it never meets another one.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from e2e.e2e_steps import CreateAdmin

from casefold_local.procs import free_port
from casefold_local.stack import SERVICES, Layout, Service
from casefold_local.system import System


def private_layout(postgres_admin_dsn: str, kafka_bootstrap: str, state_dir: Path, kind: str, **extra: Any) -> Layout:
    """Every port free, databases and topics under a fresh tag (kind names whose they are)."""
    tag = uuid.uuid4().hex[:8]
    return Layout(
        state_dir=state_dir,
        database_server_dsn=postgres_admin_dsn,
        kafka_bootstrap=kafka_bootstrap,
        services=tuple(Service(s.name, free_port(), s.factory) for s in SERVICES),
        gateway_port=free_port(),
        gateway_admin_port=free_port(),
        smtp_port=free_port(),
        mail_http_port=free_port(),
        inbound_smtp_port=free_port(),
        database_prefix=f"{kind}_{tag}_",
        topic_prefix=f"{kind}-{tag}.",
        environment="development",
        **extra,
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


@contextlib.asynccontextmanager
async def running_system(layout: Layout, within: float = 120, system: System | None = None) -> AsyncIterator[System]:
    """Started in a worker thread (the supervisor's pieces are synchronous); stopped and dropped on failure too.
    `system`, when given, is one already built on layout (bench/system_bench.py's, its gateway limits raised)."""
    system = system or System(layout, report=lambda line: print(line, file=sys.stderr))
    try:
        await asyncio.to_thread(system.start, within)
        not_ready = [name for name, ready in system.ready.items() if not ready]
        if not_ready:
            logs = ", ".join(str(system.processes[n].log_file) for n in not_ready)
            pytest.fail(f"not ready within {within:.0f}s: {', '.join(not_ready)}; see {logs}")
        yield system
    finally:
        await asyncio.to_thread(system.stop)
        with contextlib.suppress(Exception):
            await _drop_databases(layout)
        with contextlib.suppress(Exception):
            await _delete_topics(layout)


def admin_creator(system: System) -> CreateAdmin:
    """`python -m identity create-admin` against this system's identity database, as an operator would run it."""

    def create(email: str, display_name: str, password: str) -> None:
        layout = system.layout
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
