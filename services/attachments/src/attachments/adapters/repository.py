"""SQL of the attachments service: metadata rows, the case projection, links, and the locks that guard blobs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from uuid import UUID

import asyncpg

from casefold_events import locks

CaseStatus = Literal["open", "closed"]


@dataclass(frozen=True)
class AttachmentRow:
    id: UUID
    filename: str
    size: int
    content_type: str
    sha256: str
    storage_key: str
    uploaded_by: UUID
    uploaded_at: datetime
    linked_case_id: UUID | None
    linked_at: datetime | None


@dataclass(frozen=True)
class CaseAccess:
    case_id: UUID
    owner_id: UUID
    status: CaseStatus


@dataclass(frozen=True)
class CaseUsage:
    count: int
    total_bytes: int


LOCK_BLOB = f"SELECT pg_advisory_xact_lock({locks.ATTACHMENT_BLOB.key_sql})"
LOCK_CASE = f"SELECT pg_advisory_xact_lock({locks.ATTACHMENT_CASE.key_sql})"

INSERT_ATTACHMENT = """
INSERT INTO attachments (id, filename, size, content_type, sha256, storage_key, uploaded_by, declared_case_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
RETURNING uploaded_at
"""
SELECT_ATTACHMENT = """
SELECT id, filename, size, content_type, sha256, storage_key, uploaded_by, uploaded_at, linked_case_id, linked_at
FROM attachments WHERE id = $1
"""
# The owners of the cases an attachment is linked to (usually one).
SELECT_LINKED_OWNERS = """
SELECT c.owner_id FROM attachment_links l JOIN case_access c ON c.case_id = l.case_id WHERE l.attachment_id = $1
"""
SELECT_IS_LINKED = "SELECT EXISTS (SELECT 1 FROM attachment_links WHERE attachment_id = $1)"
SELECT_CASE = "SELECT case_id, owner_id, status FROM case_access WHERE case_id = $1"
SELECT_CASE_USAGE = """
SELECT count(*) AS count, coalesce(sum(size), 0)::bigint AS total_bytes FROM (
    SELECT size FROM attachment_links WHERE case_id = $1
    UNION ALL
    SELECT size FROM attachments a WHERE a.declared_case_id = $1 AND a.linked_at IS NULL
) usage
"""
UPSERT_CASE_OPENED = """
INSERT INTO case_access (case_id, owner_id, status) VALUES ($1, $2, 'open') ON CONFLICT (case_id) DO NOTHING
"""
UPDATE_CASE_CLOSED = "UPDATE case_access SET status = 'closed', updated_at = now() WHERE case_id = $1"
INSERT_LINK = """
INSERT INTO attachment_links (attachment_id, case_id, size, linked_at) VALUES ($1, $2, $3, $4)
ON CONFLICT DO NOTHING
"""
MARK_LINKED = """
UPDATE attachments SET linked_case_id = coalesce(linked_case_id, $2), linked_at = coalesce(linked_at, $3),
    collect_after = NULL
WHERE id = $1
"""
RECORD_APPLIED = """
INSERT INTO case_events_applied (singleton, occurred_at) VALUES (true, $1)
ON CONFLICT (singleton) DO UPDATE SET occurred_at = EXCLUDED.occurred_at
WHERE case_events_applied.occurred_at < EXCLUDED.occurred_at
"""
SELECT_APPLIED = "SELECT occurred_at FROM case_events_applied"
MARK_FOR_COLLECTION = """
UPDATE attachments SET collect_after = $2
WHERE linked_at IS NULL AND collect_after IS NULL AND uploaded_at < $1
"""
SELECT_DUE = """
SELECT id, sha256 FROM attachments
WHERE linked_at IS NULL AND collect_after < $2 AND uploaded_at < $1
ORDER BY collect_after LIMIT $3
"""
DELETE_IF_UNLINKED = """
DELETE FROM attachments a WHERE a.id = $1 AND a.linked_at IS NULL AND a.collect_after IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM attachment_links l WHERE l.attachment_id = a.id)
RETURNING storage_key
"""
SELECT_KEY_REFERENCED = "SELECT EXISTS (SELECT 1 FROM attachments WHERE storage_key = $1)"


def _row(record: asyncpg.Record) -> AttachmentRow:
    return AttachmentRow(**dict(record))


async def insert_attachment(
    conn: asyncpg.Connection,
    *,
    attachment_id: UUID,
    filename: str,
    size: int,
    content_type: str,
    sha256: str,
    storage_key: str,
    uploaded_by: UUID,
    declared_case_id: UUID | None,
) -> datetime:
    uploaded_at: datetime = await conn.fetchval(
        INSERT_ATTACHMENT,
        attachment_id, filename, size, content_type, sha256, storage_key, uploaded_by, declared_case_id,
    )  # fmt: skip
    return uploaded_at


async def get_attachment(conn: asyncpg.Connection, attachment_id: UUID) -> AttachmentRow | None:
    record = await conn.fetchrow(SELECT_ATTACHMENT, attachment_id)
    return _row(record) if record is not None else None


async def linked_owners(conn: asyncpg.Connection, attachment_id: UUID) -> list[UUID]:
    return [r["owner_id"] for r in await conn.fetch(SELECT_LINKED_OWNERS, attachment_id)]


async def is_linked(conn: asyncpg.Connection, attachment_id: UUID) -> bool:
    return bool(await conn.fetchval(SELECT_IS_LINKED, attachment_id))


async def get_case(conn: asyncpg.Connection, case_id: UUID) -> CaseAccess | None:
    record = await conn.fetchrow(SELECT_CASE, case_id)
    return CaseAccess(**dict(record)) if record is not None else None


async def case_usage(conn: asyncpg.Connection, case_id: UUID) -> CaseUsage:
    record = await conn.fetchrow(SELECT_CASE_USAGE, case_id)
    assert record is not None
    return CaseUsage(count=record["count"], total_bytes=record["total_bytes"])


async def lock_case(conn: asyncpg.Connection, case_id: UUID) -> None:
    await conn.execute(LOCK_CASE, case_id)


async def lock_blob(conn: asyncpg.Connection, sha256: str) -> None:
    """Serialise everything that writes or deletes the blob of these bytes (held until the transaction ends)."""
    await conn.execute(LOCK_BLOB, sha256)


async def key_referenced(conn: asyncpg.Connection, storage_key: str) -> bool:
    return bool(await conn.fetchval(SELECT_KEY_REFERENCED, storage_key))


async def case_opened(conn: asyncpg.Connection, case_id: UUID, owner_id: UUID) -> None:
    await conn.execute(UPSERT_CASE_OPENED, case_id, owner_id)


async def case_closed(conn: asyncpg.Connection, case_id: UUID) -> None:
    await conn.execute(UPDATE_CASE_CLOSED, case_id)


async def link(conn: asyncpg.Connection, attachment_id: UUID, case_id: UUID, size: int, at: datetime) -> bool:
    """Record the link; False when no upload row has this id (collected, or never stored here)."""
    await conn.execute(INSERT_LINK, attachment_id, case_id, size, at)
    return bool(await conn.execute(MARK_LINKED, attachment_id, case_id, at) != "UPDATE 0")


async def record_applied(conn: asyncpg.Connection, occurred_at: datetime) -> None:
    await conn.execute(RECORD_APPLIED, occurred_at)


async def applied_until(conn: asyncpg.Connection) -> datetime | None:
    """The latest occurred_at of the case events applied here; None before the first."""
    occurred_at: datetime | None = await conn.fetchval(SELECT_APPLIED)
    return occurred_at


async def mark_for_collection(conn: asyncpg.Connection, uploaded_before: datetime, collect_after: datetime) -> int:
    status: str = await conn.execute(MARK_FOR_COLLECTION, uploaded_before, collect_after)
    return int(status.split()[-1])


async def due_for_collection(
    conn: asyncpg.Connection, uploaded_before: datetime, now: datetime, limit: int
) -> list[tuple[UUID, str]]:
    return [(r["id"], r["sha256"]) for r in await conn.fetch(SELECT_DUE, uploaded_before, now, limit)]


async def delete_if_unlinked(conn: asyncpg.Connection, attachment_id: UUID) -> str | None:
    key: str | None = await conn.fetchval(DELETE_IF_UNLINKED, attachment_id)
    return key
