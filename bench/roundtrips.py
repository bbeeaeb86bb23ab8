"""Database round trips of one open-case and one add-comment, counted on the service's own handlers (warm pool).

Counted where asyncpg sends a query: every statement (BEGIN and COMMIT included), the pool's reset on release too.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from casefold_testing.statements import counting


async def count(database_url: str) -> dict[str, list[str]]:
    """The statements of one open-case and one add-comment (each after a warm-up of its own kind)."""
    from casefold_events.envelope import Actor, Metadata
    from cases.app import handlers
    from cases.bootstrap import build, create_pool
    from cases.config import Settings
    from cases.domain.commands import AddComment, Caller, OpenCase

    settings = Settings(environment="test", database_url=database_url, run_workers=False, run_migrations=False)
    pool = await create_pool(settings)
    deps = build(settings, pool).commands
    caller = Caller(user_id=uuid.uuid4(), role="customer", email_verified=True)
    metadata = Metadata(actor=Actor(user_id=caller.user_id, role="customer"), correlation_id=uuid.uuid4())

    def open_case() -> Awaitable[handlers.Reply]:
        command = OpenCase(case_id=uuid.uuid4(), product_id="casefold-cloud", subject="round trips",
                           description="counted", severity=2, attachments=())  # fmt: skip
        return handlers.handle_open_case(deps, command, caller, metadata, str(uuid.uuid4()))

    async def comment(case_id: uuid.UUID) -> handlers.Reply:
        command = AddComment(case_id=case_id, comment_id=uuid.uuid4(), body="counted", internal=False)
        return await handlers.handle_add_comment(deps, command, caller, metadata, str(uuid.uuid4()))

    async def measured(op: Callable[[], Awaitable[Any]]) -> list[str]:
        await op()
        with counting() as sent:
            await op()
        return sent

    try:
        case_id = uuid.UUID((await open_case()).body["id"])
        return {"open case": await measured(open_case), "add comment": await measured(lambda: comment(case_id))}
    finally:
        await pool.close()


async def count_on_server(admin_dsn: str) -> dict[str, list[str]]:
    """count() on a fresh cases database of this server (dropped afterwards)."""
    from casefold_events.migrate import migrate, package_migrations, shared_migrations
    from casefold_local.databases import create_database, drop_database

    dsn = await create_database(admin_dsn, "casefold_cases_round_trips")
    try:
        await migrate(dsn, [shared_migrations(), package_migrations("cases")])
        return await count(dsn)
    finally:
        await drop_database(admin_dsn, dsn)


def main() -> None:
    """Print the round trips, on a private PostgreSQL (CASEFOLD_BENCH_DATABASE_URL when set)."""
    import asyncio
    import os
    import shutil
    import tempfile
    from pathlib import Path

    from casefold_local import PostgresServer
    from casefold_local.procs import free_port

    admin = os.environ.get("CASEFOLD_BENCH_DATABASE_URL")
    root = Path(tempfile.mkdtemp(prefix="casefold-round-trips-"))
    pg = None
    try:
        if not admin:
            pg = PostgresServer(root / "pg", port=free_port())
            pg.start()
            admin = pg.dsn()
        for name, sent in asyncio.run(count_on_server(admin)).items():
            print(f"{name}: {len(sent)} round trips")
            for statement in sent:
                print(f"    {statement}")
    finally:
        if pg is not None:
            pg.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
