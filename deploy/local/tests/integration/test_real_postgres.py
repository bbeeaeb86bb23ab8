"""The PostgreSQL the tests run against is a real server, and each test module's database is its own."""

from __future__ import annotations

import asyncpg

from casefold_local.databases import create_database, drop_database


async def test_asyncpg_round_trip(database: str) -> None:
    conn = await asyncpg.connect(database)
    try:
        await conn.execute("CREATE TABLE notes (id bigserial PRIMARY KEY, body jsonb NOT NULL)")
        await conn.execute("INSERT INTO notes (body) VALUES ($1::jsonb)", '{"subject": "Production Down"}')
        row = await conn.fetchrow("SELECT body->>'subject' AS subject, version() AS version FROM notes")
    finally:
        await conn.close()
    assert row is not None
    assert row["subject"] == "Production Down"
    assert row["version"].startswith("PostgreSQL")


async def test_two_databases_are_isolated(postgres_admin_dsn: str, database: str) -> None:
    other = await create_database(postgres_admin_dsn, "other")
    try:
        a = await asyncpg.connect(database)
        b = await asyncpg.connect(other)
        try:
            await a.execute("CREATE TABLE only_here (id int)")
            await a.execute("INSERT INTO only_here VALUES (1)")
            assert await a.fetchval("SELECT count(*) FROM only_here") == 1
            exists = await b.fetchval("SELECT to_regclass('only_here') IS NOT NULL")
            assert exists is False
            assert await a.fetchval("SELECT current_database()") != await b.fetchval("SELECT current_database()")
        finally:
            await a.close()
            await b.close()
    finally:
        await drop_database(postgres_admin_dsn, other)


async def test_extensions_the_services_need_are_available(database: str) -> None:
    conn = await asyncpg.connect(database)
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        similarity = await conn.fetchval("SELECT similarity('production', 'productoin')")
    finally:
        await conn.close()
    assert similarity > 0.3
