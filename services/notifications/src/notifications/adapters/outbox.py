"""The emails table: the outbox that the delivery loop drains, and the activity history that the API reads."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg

from notifications.domain.emails import Draft, mailbox

CHANNEL = "notifications_emails"
LINK_REMOVED = "[link removed after delivery]"

# One round trip: the row and, when it is ready to send, the wake-up (delivered at commit).
INSERT = f"""
WITH inserted AS (
INSERT INTO emails (id, message_id, case_id, kind, direction, recipient_user_id, from_address, to_address, subject,
                    text_body, html_body, headers, secret, status, created_at, traceparent, last_error, agent_user_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, $13, $14, $15, $16, $17, $18)
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
# Mail to a customer not sent yet when their account is disabled is withheld too (a delivery lane holding the row
# sends it first: this waits for its lock and then sees it sent).
WITHHOLD_FOR = """
UPDATE emails SET status = 'withheld', last_error = $2
WHERE recipient_user_id = $1 AND status IN ('waiting', 'queued')
"""
# Internal mail still queued for an agent who is no current agent any more (disabled, or the role revoked) goes to the
# support address, due at once (a delivery lane holding the row sends it first, as above). An agent email is never
# waiting or withheld: an agent's address is known when it is written.
REDIRECT_AGENT_MAIL = """
UPDATE emails SET to_address = $2, headers = jsonb_set(headers, '{To}', to_jsonb($2::text)), agent_user_id = NULL,
                  next_attempt_at = now()
WHERE agent_user_id = $1 AND status = 'queued'
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
# Not the message's fault (the server could not be reached): noted, not counted, due again at once.
MARK_UNTRIED = """
UPDATE emails SET last_error = $2 WHERE id = ANY($1::uuid[])
"""
# Waiting emails whose recipient the directory knows by now (their user event committed while the email's
# transaction was still open, so that event's release did not see it).
KNOWN_WAITING = """
SELECT DISTINCT u.user_id, u.email, u.display_name FROM emails e JOIN users u ON u.user_id = e.recipient_user_id
WHERE e.status = 'waiting'
"""
# An operator's re-drive of failed emails. A failed account email lost its single-use link when it failed (masked
# like a sent one): sending it again would send a dead link, so it stays failed and the user asks for a new one.
REDRIVE = f"""
UPDATE emails SET status = 'queued', next_attempt_at = clock_timestamp(), last_error = NULL
WHERE status = 'failed' AND (cardinality($1::uuid[]) = 0 OR id = ANY($1::uuid[]))
  AND ($2::timestamptz IS NULL OR created_at >= $2)
  AND NOT (case_id IS NULL AND text_body LIKE '%{LINK_REMOVED}%')
RETURNING id
"""
COUNT_DEAD_LINKS = f"""
SELECT count(*) FROM emails
WHERE status = 'failed' AND (cardinality($1::uuid[]) = 0 OR id = ANY($1::uuid[]))
  AND ($2::timestamptz IS NULL OR created_at >= $2)
  AND case_id IS NULL AND text_body LIKE '%{LINK_REMOVED}%'
"""
# A reply received by email, in the activity history as it arrived ('sent' here means received: never delivered).
RECORD_RECEIVED = """
INSERT INTO emails (id, message_id, case_id, kind, direction, from_address, to_address, subject, text_body, html_body,
                    headers, status, attempts, created_at, sent_at)
VALUES ($1, $2, $3, 'inbound-reply', $4, $5, $6, $7, $8, $9, $10::jsonb, 'sent', 0, $11, $11)
ON CONFLICT DO NOTHING
"""
# The earlier messages of a case's thread that a recipient on this side has seen (customers never see the copies
# and alerts sent to support).
THREAD = """
SELECT message_id FROM emails WHERE case_id = $1 AND direction = ANY($2::text[]) ORDER BY seq
"""
# The case of an email we sent, by its Message-ID (a reply's In-Reply-To/References), newest first.
CASE_OF_MESSAGES = """
SELECT case_id, direction FROM emails WHERE message_id = ANY($1::text[]) AND case_id IS NOT NULL
ORDER BY seq DESC LIMIT 1
"""
LIST_FOR_CASE = """
SELECT id, kind, direction, from_address, to_address, subject, sent_at, status FROM emails
WHERE case_id = $1 AND direction = ANY($2::text[])
ORDER BY seq
"""
GET = """
SELECT id, case_id, kind, direction, headers, subject, text_body, html_body, from_address, to_address, status, sent_at,
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
        draft.secret, draft.status, draft.created_at, draft.traceparent, draft.withheld, draft.agent_user_id,
    )  # fmt: skip
    return status is not None


async def wake_delivery(conn: asyncpg.Connection) -> None:
    """Delivered at commit, so the delivery loop never looks before the row is visible."""
    await conn.execute("SELECT pg_notify($1, '')", CHANNEL)


async def _updated(conn: asyncpg.Connection, statement: str, *args: object) -> int:
    """Run an UPDATE; how many rows it changed (its command status, "UPDATE n")."""
    return int(str(await conn.execute(statement, *args)).split()[-1])


async def _made_due(conn: asyncpg.Connection, statement: str, *args: object) -> int:
    """Run an UPDATE that makes emails due now, and wake the delivery loop when it made any; how many."""
    count = await _updated(conn, statement, *args)
    if count:
        await wake_delivery(conn)
    return count


async def resolve_waiting(conn: asyncpg.Connection, user_id: UUID, to_address: str) -> int:
    return await _made_due(conn, RESOLVE_WAITING, user_id, to_address)


async def withhold_for(conn: asyncpg.Connection, user_id: UUID, reason: str) -> int:
    """Withhold every email to this user not sent yet; how many."""
    return await _updated(conn, WITHHOLD_FOR, user_id, reason)


async def redirect_agent_mail(conn: asyncpg.Connection, agent_id: UUID, to_address: str) -> int:
    """Send what is still queued for this former agent to to_address (the support address) instead; how many."""
    return await _made_due(conn, REDIRECT_AGENT_MAIL, agent_id, to_address)


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


async def mark_untried(conn: asyncpg.Connection, email_ids: list[UUID], error: str) -> None:
    if email_ids:
        await conn.execute(MARK_UNTRIED, email_ids, error[:1000])


async def release_known_waiting(conn: asyncpg.Connection) -> int:
    """Queue every waiting email whose recipient is in the directory; how many were released."""
    released = 0
    for row in await conn.fetch(KNOWN_WAITING):
        released += await resolve_waiting(conn, row["user_id"], mailbox(row["email"], row["display_name"]))
    return released


@dataclass(frozen=True)
class Redriven:
    queued: list[UUID]
    dead_links: int  # failed account emails left as they are: their link is gone


async def redrive(conn: asyncpg.Connection, email_ids: list[UUID], since: datetime | None) -> Redriven:
    """Queue failed emails again (all of them, those given, or those created since a time)."""
    async with conn.transaction():
        dead = int(await conn.fetchval(COUNT_DEAD_LINKS, email_ids, since))
        queued = [r["id"] for r in await conn.fetch(REDRIVE, email_ids, since)]
        if queued:
            await wake_delivery(conn)
    return Redriven(queued, dead)


async def record_received(
    conn: asyncpg.Connection,
    email_id: UUID,
    message_id: str,
    case_id: UUID,
    direction: str,
    from_address: str,
    to_address: str,
    subject: str,
    text: str,
    html: str,
    headers: dict[str, str],
    received_at: datetime | None,
) -> None:
    await conn.execute(RECORD_RECEIVED, email_id, message_id, case_id, direction, from_address, to_address, subject,
                       text, html, json.dumps(headers), received_at or datetime.now(UTC))  # fmt: skip


async def thread(conn: asyncpg.Connection, case_id: UUID, directions: list[str]) -> list[str]:
    return [r["message_id"] for r in await conn.fetch(THREAD, case_id, directions)]


async def case_of_messages(conn: asyncpg.Connection, message_ids: list[str]) -> tuple[UUID, str] | None:
    """The case (and the direction) of the newest of these Message-IDs that we sent; None when none is ours."""
    row = await conn.fetchrow(CASE_OF_MESSAGES, message_ids)
    return (row["case_id"], row["direction"]) if row else None


async def list_for_case(conn: asyncpg.Connection, case_id: UUID, directions: list[str]) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(LIST_FOR_CASE, case_id, directions)]


async def get(conn: asyncpg.Connection, email_id: UUID) -> dict[str, Any] | None:
    row = await conn.fetchrow(GET, email_id)
    if row is None:
        return None
    found = dict(row)
    found["headers"] = json.loads(found["headers"])
    return found
