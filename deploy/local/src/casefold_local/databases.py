"""Creating and dropping databases on a server we may administer (tests, benchmarks, the local stack)."""

from __future__ import annotations

import re
import uuid

import asyncpg


def with_database(dsn: str, database: str) -> str:
    """The same server DSN pointing at another database."""
    base, _, query = dsn.partition("?")
    head, _, _ = base.rpartition("/")
    return f"{head}/{database}" + (f"?{query}" if query else "")


def database_of(dsn: str) -> str:
    return dsn.partition("?")[0].rpartition("/")[2]


async def create_database(admin_dsn: str, hint: str) -> str:
    """Create a fresh, empty database with a unique name starting with hint; return its DSN."""
    name = f"{re.sub(r'[^a-z0-9]+', '_', hint.lower()).strip('_')[:40]}_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return with_database(admin_dsn, name)


async def drop_database(admin_dsn: str, dsn: str) -> None:
    """Drop the database dsn names, disconnecting whoever is still on it."""
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database_of(dsn)}" WITH (FORCE)')
    finally:
        await conn.close()
