"""Writes that ride together: the data-modifying statements of one transaction, sent as one statement.

A command's last statements (the append with its outbox row, the read model's update, the idempotency completion)
return nothing the command still needs before it commits, only a count to check. Sent one by one, each costs a round
trip, and on these machines a round trip (a send, a wake-up, a receive, asyncpg's encoding and decoding) costs more
than the statement. PostgreSQL runs data-modifying statements in a WITH list exactly once each, in one snapshot, all
or nothing, so the writes are composed into one:

    WITH w0_inserted AS (INSERT ...), w0_queued AS (INSERT ...), w1_summary_opened AS (INSERT ...),
         w2_completion AS (UPDATE ...)
    SELECT <w0's results>

Each Write is written as if alone: its CTE names are its own (renamed w<i>_<name> in the whole), its parameters
$1..$n (renumbered after those of the writes before it). What a Write checks of its results runs once the statement
has answered, and an error it raises rolls back the caller's transaction like any failed statement would.

What a composition must not contain (PostgreSQL's rule for one snapshot): two writes of the same row, or a write
that reads what an earlier one of the same statement wrote. A caller that must read what it wrote flushes first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import asyncpg

_PARAMETER = re.compile(r"\$(\d+)")

Check = Callable[[tuple[Any, ...]], None]
Translate = Callable[[asyncpg.PostgresError], Exception | None]


@dataclass(frozen=True)
class Write:
    """One write of a composition.

    ctes: (name, statement) in order; a later statement may name an earlier one (FROM name, EXISTS (SELECT 1 FROM
    name)). results: SQL expressions over the CTEs, answered in the final SELECT; check gets their values. translate:
    turns a database error of the statement into this write's own error (None: not this write's).
    """

    ctes: tuple[tuple[str, str], ...]
    args: tuple[Any, ...] = ()
    results: tuple[str, ...] = ()
    check: Check | None = None
    translate: Translate | None = None


@dataclass(frozen=True)
class Composed:
    sql: str
    slices: tuple[slice, ...]


def compose(writes: Sequence[Write]) -> Composed:
    """One statement of every write, in order (see the module's doc); its parameters are the writes' args, chained."""
    return _composed(tuple((w.ctes, w.results, len(w.args)) for w in writes))


Shape = tuple[tuple[tuple[tuple[str, str], ...], tuple[str, ...], int], ...]


@lru_cache(maxsize=256)
def _composed(shape: Shape) -> Composed:
    # A handful of shapes per service (each command's writes): composed once each, not per request.
    ctes: list[str] = []
    results: list[str] = []
    slices: list[slice] = []
    offset = 0
    for i, (parts, answers, arity) in enumerate(shape):
        rename = _renamer([name for name, _ in parts], f"w{i}_")

        def shifted(sql: str, offset: int = offset) -> str:
            return _PARAMETER.sub(lambda m: f"${int(m.group(1)) + offset}", sql)

        for name, statement in parts:
            ctes.append(f"w{i}_{name} AS ({shifted(rename(statement))})")
        start = len(results)
        results.extend(shifted(rename(r)) for r in answers)
        slices.append(slice(start, len(results)))
        offset += arity
    select = ", ".join(results) if results else "1"
    return Composed(f"WITH {', '.join(ctes)} SELECT {select}" if ctes else f"SELECT {select}", tuple(slices))


def _renamer(names: Sequence[str], prefix: str) -> Callable[[str], str]:
    if not names:
        return lambda sql: sql
    pattern = re.compile(r"\b(" + "|".join(re.escape(n) for n in names) + r")\b")
    return lambda sql: pattern.sub(lambda m: prefix + m.group(1), sql)


async def execute(conn: asyncpg.Connection, writes: Sequence[Write]) -> None:
    """Send the writes as one statement and run their checks (nothing is sent for none)."""
    if not writes:
        return
    composed = compose(writes)
    try:
        row = await conn.fetchrow(composed.sql, *(arg for write in writes for arg in write.args))
    except asyncpg.PostgresError as exc:
        for write in writes:
            if write.translate is not None and (mine := write.translate(exc)) is not None:
                raise mine from exc
        raise
    values = tuple(row) if row is not None else ()
    for write, part in zip(writes, composed.slices, strict=True):
        if write.check is not None:
            write.check(values[part])


@dataclass
class Writes:
    """The writes a command defers to one statement before it commits (flush)."""

    pending: list[Write] = field(default_factory=list)

    def add(self, write: Write) -> None:
        self.pending.append(write)

    async def flush(self, conn: asyncpg.Connection) -> None:
        """Send what is pending as one statement (see execute); nothing is pending afterwards, even on error."""
        pending, self.pending = self.pending, []
        await execute(conn, pending)


async def run(conn: asyncpg.Connection, write: Write, defer: Writes | None) -> None:
    """The write now, alone, or added to defer to ride with the others."""
    if defer is None:
        await execute(conn, [write])
    else:
        defer.add(write)
