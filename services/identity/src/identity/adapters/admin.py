"""The administrators' reads: users newest first (with a search over email and display name), and one user's events
with their actors, for the audit trail."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from identity.domain.model import STREAM_TYPE

# strpos over lower(): a substring match that needs no LIKE escaping of % and _ in what the admin typed.
LIST_USERS = """
    SELECT id, email, display_name, role, email_verified, disabled, created_at FROM users
    WHERE ($1::text IS NULL OR strpos(lower(email), $1) > 0 OR strpos(lower(display_name), $1) > 0)
      AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3::uuid))
    ORDER BY created_at DESC, id DESC
    LIMIT $4
"""
# by_reset_link: the PasswordChanged event was written in the transaction that spent a reset link.
USER_EVENTS = """
    SELECT e.occurred_at, e.event_type, e.actor_id, a.display_name AS actor_name, e.payload::text AS payload,
           EXISTS (SELECT 1 FROM password_reset_tokens r WHERE r.user_id = $2 AND r.used_tx = e.tx_id)
               AS by_reset_link
    FROM events e LEFT JOIN users a ON a.id = e.actor_id
    WHERE e.stream_type = $3 AND e.stream_id = $1
    ORDER BY e.stream_version
"""


@dataclass(frozen=True)
class ListedUser:
    id: UUID
    email: str
    display_name: str
    role: str
    email_verified: bool
    disabled: bool
    created_at: datetime


@dataclass(frozen=True)
class RecordedUserEvent:
    occurred_at: datetime
    event_type: str
    actor_id: UUID | None
    actor_name: str | None
    payload: dict[str, Any]
    by_reset_link: bool


async def list_users(
    conn: asyncpg.Connection | asyncpg.Pool, query: str | None, after: tuple[datetime, UUID] | None, limit: int
) -> list[ListedUser]:
    created_at, user_id = after if after is not None else (None, None)
    rows = await conn.fetch(LIST_USERS, query.lower() if query else None, created_at, user_id, limit)
    return [ListedUser(**dict(r)) for r in rows]


async def user_events(conn: asyncpg.Connection | asyncpg.Pool, user_id: UUID) -> list[RecordedUserEvent]:
    rows = await conn.fetch(USER_EVENTS, str(user_id), user_id, STREAM_TYPE)
    return [RecordedUserEvent(**{**dict(r), "payload": json.loads(r["payload"])}) for r in rows]
