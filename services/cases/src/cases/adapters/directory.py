"""The user directory (id -> display name, email, verified, role, disabled), projected from identity.events.v1.

Each column group carries the stream version that set it; an event older than that leaves it alone, so events
applied in any order, or twice, end in the same row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from casefold_events.contracts.cases import Role


@dataclass(frozen=True)
class Person:
    """What the directory knows of a user; None fields have not arrived yet."""

    user_id: UUID
    display_name: str | None
    email: str | None
    email_verified: bool
    role: Role | None
    disabled: bool = False

    @property
    def is_current_agent(self) -> bool:
        """An agent or admin who may act now: one whose role was revoked, or whose account is disabled, is not (their
        cases count as unassigned)."""
        return self.role in ("agent", "admin") and not self.disabled


@dataclass(frozen=True)
class Change:
    """What one identity event says about a user; None means the event does not speak of that field."""

    display_name: str | None = None
    email: str | None = None
    email_verified: bool = False
    role: Role | None = None
    disabled: bool | None = None


# $2 is the event's stream version; a field the event does not carry gets version 0 and so never wins.
APPLY = """
INSERT INTO users AS u (id, version, updated_at, display_name, name_version, email, email_verified, email_version,
                        role, role_version, disabled, disabled_version)
VALUES ($1, $2, $3,
        $4::text, CASE WHEN $4::text IS NULL THEN 0 ELSE $2 END,
        $5::text, $6, CASE WHEN $5::text IS NULL THEN 0 ELSE $2 END,
        $7::text, CASE WHEN $7::text IS NULL THEN 0 ELSE $2 END,
        coalesce($8::boolean, false), CASE WHEN $8::boolean IS NULL THEN 0 ELSE $2 END)
ON CONFLICT (id) DO UPDATE SET
    display_name = CASE WHEN EXCLUDED.name_version > u.name_version THEN EXCLUDED.display_name ELSE u.display_name END,
    name_version = greatest(u.name_version, EXCLUDED.name_version),
    email = CASE WHEN EXCLUDED.email_version > u.email_version THEN EXCLUDED.email ELSE u.email END,
    email_verified = CASE WHEN EXCLUDED.email_version > u.email_version
                          THEN EXCLUDED.email_verified ELSE u.email_verified END,
    email_version = greatest(u.email_version, EXCLUDED.email_version),
    role = CASE WHEN EXCLUDED.role_version > u.role_version THEN EXCLUDED.role ELSE u.role END,
    role_version = greatest(u.role_version, EXCLUDED.role_version),
    disabled = CASE WHEN EXCLUDED.disabled_version > u.disabled_version THEN EXCLUDED.disabled ELSE u.disabled END,
    disabled_version = greatest(u.disabled_version, EXCLUDED.disabled_version),
    updated_at = CASE WHEN EXCLUDED.version > u.version THEN EXCLUDED.updated_at ELSE u.updated_at END,
    version = greatest(u.version, EXCLUDED.version)
"""
# In the order of Person's fields.
PERSON_COLUMNS = "id, display_name, email, email_verified, role, disabled"
PEOPLE = f"SELECT {PERSON_COLUMNS} FROM users WHERE id = ANY($1::uuid[])"


def person_expression(parameter: int) -> str:
    """SQL for one user as a record (NULL when unknown), to read inside another statement: $parameter is the id."""
    return f"(SELECT ROW({PERSON_COLUMNS}) FROM users WHERE id = ${parameter}::uuid)"


def person_of(record: tuple[Any, ...] | None) -> Person | None:
    """The Person of a person_expression's value."""
    return None if record is None else Person(*record)


async def apply(conn: asyncpg.Connection, user_id: UUID, version: int, at: datetime, change: Change) -> None:
    """Record what an event at this stream version says, unless a newer event already said it."""
    await conn.execute(
        APPLY,
        user_id,
        version,
        at,
        change.display_name,
        change.email,
        change.email_verified,
        change.role,
        change.disabled,
    )


async def people(conn: asyncpg.Connection, user_ids: Iterable[UUID]) -> dict[UUID, Person]:
    """The known users among user_ids (one query by primary key)."""
    rows = await conn.fetch(PEOPLE, list(set(user_ids)))
    return {
        r["id"]: Person(r["id"], r["display_name"], r["email"], r["email_verified"], r["role"], r["disabled"])
        for r in rows
    }


async def clear(conn: asyncpg.Connection) -> None:
    """Forget every user (before a replay from the start of the topic)."""
    await conn.execute("TRUNCATE users")
