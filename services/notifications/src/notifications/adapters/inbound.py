"""The inbound_emails table: replies received by email, waiting to become comments, and what became of them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

CHANNEL = "notifications_inbound"

INSERT = f"""
WITH inserted AS (
INSERT INTO inbound_emails (id, message_id, case_id, author_id, author_role, from_address, to_address, subject,
                            headers, text_body, html_body, new_text, raw)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12, $13)
ON CONFLICT (message_id) DO NOTHING
RETURNING id
)
SELECT id, pg_notify('{CHANNEL}', '') FROM inserted
"""
SENT_LAST_HOUR = """
SELECT count(*) FROM inbound_emails WHERE lower(from_address) = lower($1) AND received_at > now() - interval '1 hour'
"""
CLAIM = """
SELECT id, message_id, case_id, author_id, author_role, from_address, to_address, subject, headers, text_body,
       html_body, new_text, raw, attempts, received_at
FROM inbound_emails WHERE status = 'pending' AND next_attempt_at <= clock_timestamp()
ORDER BY next_attempt_at, received_at LIMIT $1
FOR UPDATE SKIP LOCKED
"""
FINISH = "UPDATE inbound_emails SET status = $2, last_error = $3, done_at = clock_timestamp() WHERE id = $1"
RETRY = """
UPDATE inbound_emails SET attempts = attempts + 1, last_error = $2,
                          next_attempt_at = clock_timestamp() + make_interval(secs => $3)
WHERE id = $1
"""


@dataclass(frozen=True)
class Received:
    """An accepted reply, as stored at SMTP time."""

    id: UUID
    message_id: str
    case_id: UUID
    author_id: UUID
    author_role: str
    from_address: str
    to_address: str
    subject: str
    headers: dict[str, str]
    text_body: str
    html_body: str
    new_text: str
    raw: bytes = b""  # the whole message: its attachments are stored by the inbound loop
    attempts: int = 0
    received_at: datetime | None = None


async def insert(conn: asyncpg.Connection, r: Received) -> bool:
    """Store a reply; False when an email with its Message-ID was received already."""
    found = await conn.fetchval(
        INSERT, r.id, r.message_id, r.case_id, r.author_id, r.author_role, r.from_address, r.to_address, r.subject,
        json.dumps(r.headers), r.text_body, r.html_body, r.new_text, r.raw,
    )  # fmt: skip
    return found is not None


async def sent_last_hour(conn: asyncpg.Connection, address: str) -> int:
    return int(await conn.fetchval(SENT_LAST_HOUR, address))


async def claim(conn: asyncpg.Connection, limit: int) -> list[Received]:
    rows = await conn.fetch(CLAIM, limit)
    return [Received(**{**dict(r), "headers": json.loads(r["headers"])}) for r in rows]


async def finish(conn: asyncpg.Connection, inbound_id: UUID, status: str, error: str | None = None) -> None:
    await conn.execute(FINISH, inbound_id, status, error[:1000] if error else None)


async def retry(conn: asyncpg.Connection, inbound_id: UUID, error: str, delay_seconds: float) -> None:
    await conn.execute(RETRY, inbound_id, error[:1000], delay_seconds)
