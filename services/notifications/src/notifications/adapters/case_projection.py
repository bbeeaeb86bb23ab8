"""The case projection (owner, number, subject, prioritised, status, thread root), from cases.events.v1."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import asyncpg

from notifications.adapters.directory import COLUMNS, User


@dataclass(frozen=True)
class Case:
    case_id: UUID
    number: int
    subject: str
    owner_id: UUID
    severity: int
    prioritised: bool
    status: str
    opened_event_id: UUID


INSERT = """
INSERT INTO cases (case_id, number, subject, owner_id, severity, prioritised, opened_event_id)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (case_id) DO NOTHING
"""
# Recording the case and reading its owner from the directory in one round trip (the consumer's hot path).
OPEN = f"""
WITH inserted AS ({INSERT})
SELECT {COLUMNS} FROM users WHERE user_id = $4
"""
SET_STATUS = "UPDATE cases SET status = $2, updated_at = now() WHERE case_id = $1"
GET = """
SELECT case_id, number, subject, owner_id, severity, prioritised, status, opened_event_id FROM cases WHERE case_id = $1
"""


async def open_case(conn: asyncpg.Connection, case: Case) -> User | None:
    """Record the case; its owner from the user directory, if known yet."""
    row = await conn.fetchrow(
        OPEN, case.case_id, case.number, case.subject, case.owner_id, case.severity, case.prioritised,
        case.opened_event_id,
    )  # fmt: skip
    return User(**dict(row)) if row else None


async def set_status(conn: asyncpg.Connection, case_id: UUID, status: str) -> None:
    await conn.execute(SET_STATUS, case_id, status)


async def get(conn: asyncpg.Connection, case_id: UUID) -> Case | None:
    row = await conn.fetchrow(GET, case_id)
    return Case(**dict(row)) if row else None
