"""A small migration runner: numbered plain-SQL files, applied once each, in order, under an advisory lock.

Each service applies the shared migrations (source "events") and then its own. Every file runs in its own
transaction; the applied set lives in schema_migrations, so running again is a no-op.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable

from casefold_events import locks, pools

LOCK_KEY = locks.MIGRATIONS.key

CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    source     text        NOT NULL,
    name       text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, name)
)
"""


@dataclass(frozen=True)
class MigrationSource:
    """A named folder of NNNN_description.sql files (a package resource folder or a path)."""

    name: str
    folder: Traversable

    def scripts(self) -> list[tuple[str, str]]:
        found = [f for f in self.folder.iterdir() if f.name.endswith(".sql")]
        return [(f.name, f.read_text()) for f in sorted(found, key=lambda f: f.name)]


def shared_migrations() -> MigrationSource:
    """The tables libs/events itself needs."""
    return MigrationSource("events", files("casefold_events") / "migrations")


def package_migrations(package: str) -> MigrationSource:
    """A service's own migrations folder: <package>/migrations."""
    return MigrationSource(package, files(package) / "migrations")


async def migrate(dsn: str, sources: Iterable[MigrationSource]) -> list[str]:
    """Apply what is missing; return the names applied now ("source/file")."""
    conn = await pools.connect(dsn, command_timeout=None)  # a migration may build an index for a long time
    applied_now: list[str] = []
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", LOCK_KEY)
        try:
            await conn.execute(CREATE_TABLE)
            done = {(r["source"], r["name"]) for r in await conn.fetch("SELECT source, name FROM schema_migrations")}
            for source in sources:
                for name, sql in source.scripts():
                    if (source.name, name) in done:
                        continue
                    async with conn.transaction():
                        await conn.execute(sql)
                        await conn.execute(
                            "INSERT INTO schema_migrations (source, name) VALUES ($1, $2)", source.name, name
                        )
                    applied_now.append(f"{source.name}/{name}")
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)
    finally:
        await conn.close()
    return applied_now
