"""The statements asyncpg sends, counted where it sends them: a test (or bench) asserts a command's round trips."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg


@contextmanager
def counting() -> Iterator[list[str]]:
    """Every query asyncpg sends while inside, by its first line."""
    sent: list[str] = []
    connection = asyncpg.connection.Connection
    originals = {name: getattr(connection, name) for name in ("_execute", "execute", "_executemany")}

    async def _execute(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        sent.append(" ".join(query.split())[:90])
        return await originals["_execute"](self, query, *args, **kwargs)

    async def execute(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        if not args:  # with arguments execute goes through _execute, counted there
            sent.append(" ".join(query.split())[:90])
        return await originals["execute"](self, query, *args, **kwargs)

    async def _executemany(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        sent.append("(many) " + " ".join(query.split())[:83])
        return await originals["_executemany"](self, query, *args, **kwargs)

    connection._execute, connection.execute, connection._executemany = _execute, execute, _executemany
    try:
        yield sent
    finally:
        for name, original in originals.items():
            setattr(connection, name, original)
