"""The emails table: the outbox that the delivery loop drains, and the activity history that the API reads."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

from notifications.domain.emails import Draft

CHANNEL = "notifications_emails"
LINK_REMOVED = "[link removed after delivery]"

# One round trip: the row and, when it is ready to send, the wake-up (delivered at commit).
INSERT = f"""
WITH inserted AS (
INSERT INTO emails (id, message_id, case_id, kind, direction, recipient_user_id, from_address, to_address, subject,
                    text_body, html_body, headers, secret, status, created_at, traceparent)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, $13, $14, $15, $16)
ON CONFLICT (message_id) DO NOTHING
RETURNING status
)
SELECT status, CASE WHEN status = 'queued' THEN pg_notify('{CHANNEL}', '') END FROM inserted
"""
# A waiting email gets its recipient when the directory learns the user's address.
RESOLVE_WAITING = """
UPDATE emails SET to_address = $2, headers = jsonb_set(headers, '{To}', to_jsonb($2::text)), status = 'queued',
                  next_attempt_at = now()
WHERE recipient_user_id = $1 AND status = 'waiting'
"""
# Row locks held while sending: a second delivery worker skips these rows instead of sending them twice.
CLAIM_DUE = """
SELECT id, headers, text_body, html_body, attempts, traceparent FROM emails
WHERE status = 'queued' AND next_attempt_at <= clock_timestamp()
ORDER BY next_attempt_at, seq
LIMIT $1
FOR UPDATE SKIP LOCKED
"""
# The single-use link in an account email has done its job once delivered (or given up on): mask it in the store.
_PURGE = """
    secret = NULL,
    text_body = CASE WHEN secret IS NULL THEN text_body ELSE replace(text_body, secret, $LINK) END,
    html_body = CASE WHEN secret IS NULL THEN html_body
                ELSE replace(replace(html_body, secret, $LINK), replace(secret, '&', '&amp;'), $LINK) END
"""
MARK_SENT = f"""
UPDATE emails SET status = 'sent', sent_at = clock_timestamp(), attempts = attempts + 1, last_error = NULL,
{_PURGE.replace("$LINK", "$2")}
WHERE id = ANY($1::uuid[])
"""
MARK_RETRY = """
UPDATE emails SET attempts = attempts + 1, last_error = $2,
                  next_attempt_at = clock_timestamp() + make_interval(secs => $3)
WHERE id = $1
"""
MARK_FAILED = f"""
UPDATE emails SET status = 'failed', attempts = attempts + 1, last_error = $2, {_PURGE.replace("$LINK", "$3")}
WHERE id = $1
"""
LIST_FOR_CASE = """
SELECT id, direction, from_address, to_address, subject, sent_at, status FROM emails
WHERE case_id = $1 AND direction = ANY($2::text[])
ORDER BY seq
"""
GET = """
SELECT id, case_id, direction, headers, subject, text_body, html_body, from_address, to_address, status, sent_at,
       attempts, last_error
FROM emails WHERE id = $1
"""


@dataclass(frozen=True)
class Due:
    """An email claimed for delivery."""

    id: UUID
    headers: dict[str, str]
    text: str
    html: str
    attempts: int
    traceparent: str | None = None


async def insert(conn: asyncpg.Connection, draft: Draft) -> bool:
    """Queue a draft; False when an email with its Message-ID exists already (a redelivered event)."""
    status = await conn.fetchval(
        INSERT, draft.id, draft.message_id, draft.case_id, draft.kind, draft.direction, draft.recipient_user_id,
        draft.from_address, draft.to_address, draft.subject, draft.text, draft.html, json.dumps(draft.headers()),
        draft.secret, draft.status, draft.created_at, draft.traceparent,
    )  # fmt: skip
    return status is not None


async def wake_delivery(conn: asyncpg.Connection) -> None:
    """Delivered at commit, so the delivery loop never looks before the row is visible."""
    await conn.execute("SELECT pg_notify($1, '')", CHANNEL)


async def resolve_waiting(conn: asyncpg.Connection, user_id: UUID, to_address: str) -> int:
    count = int(str(await conn.execute(RESOLVE_WAITING, user_id, to_address)).split()[-1])
    if count:
        await wake_delivery(conn)
    return count


async def claim_due(conn: asyncpg.Connection, limit: int) -> list[Due]:
    rows = await conn.fetch(CLAIM_DUE, limit)
    return [
        Due(r["id"], json.loads(r["headers"]), r["text_body"], r["html_body"], r["attempts"], r["traceparent"])
        for r in rows
    ]


async def mark_sent(conn: asyncpg.Connection, email_ids: list[UUID]) -> None:
    if email_ids:
        await conn.execute(MARK_SENT, email_ids, LINK_REMOVED)


async def mark_retry(conn: asyncpg.Connection, email_id: UUID, error: str, delay_seconds: float) -> None:
    await conn.execute(MARK_RETRY, email_id, error[:1000], delay_seconds)


async def mark_failed(conn: asyncpg.Connection, email_id: UUID, error: str) -> None:
    await conn.execute(MARK_FAILED, email_id, error[:1000], LINK_REMOVED)


async def list_for_case(conn: asyncpg.Connection, case_id: UUID, directions: list[str]) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(LIST_FOR_CASE, case_id, directions)]


async def get(conn: asyncpg.Connection, email_id: UUID) -> dict[str, Any] | None:
    row = await conn.fetchrow(GET, email_id)
    if row is None:
        return None
    found = dict(row)
    found["headers"] = json.loads(found["headers"])
    return found
