"""Committing an upload: check the optional target case, commit the staged blobs and their rows together."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from attachments.adapters import repository as repo
from attachments.adapters.storage import Storage
from attachments.app.blobs import release_blob
from attachments.app.receiving import ReceivedUpload, StagedFile, abort_all
from casefold_events import receipts
from casefold_events.contracts import AttachmentRef
from casefold_platform.auth import Principal
from casefold_platform.problems import Conflict, NotFound, TooLarge


@dataclass(frozen=True)
class CaseLimits:
    max_files: int
    max_bytes: int


@dataclass(frozen=True)
class StoredAttachment:
    id: uuid.UUID
    filename: str
    size: int
    content_type: str
    sha256: str
    uploaded_at: datetime
    reference: str


async def _check_case(
    conn: asyncpg.Connection, case_id: uuid.UUID, principal: Principal, files: list[StagedFile], limits: CaseLimits
) -> None:
    case = await repo.get_case(conn, case_id)
    if case is None or (case.owner_id != principal.user_id and not principal.is_agent):
        raise NotFound("No such case.")
    if case.status == "closed":
        raise Conflict("The case is closed; nothing more can be added to it. Open a new case instead.")
    await repo.lock_case(conn, case_id)
    usage = await repo.case_usage(conn, case_id)
    if usage.count + len(files) > limits.max_files:
        raise Conflict(
            f"A case holds at most {limits.max_files} attachments; this one has {usage.count}.",
            max_files_per_case=limits.max_files,
        )
    if usage.total_bytes + sum(f.size for f in files) > limits.max_bytes:
        raise TooLarge(
            f"A case holds at most {limits.max_bytes} bytes of attachments; this one has {usage.total_bytes}.",
            max_bytes_per_case=limits.max_bytes,
        )


async def store_upload(
    pool: asyncpg.Pool,
    storage: Storage,
    upload: ReceivedUpload,
    principal: Principal,
    *,
    case_limits: CaseLimits,
    receipt_key: bytes,
    receipt_ttl: timedelta,
    attachment_ids: list[uuid.UUID] | None = None,
) -> list[StoredAttachment]:
    """Commit all staged files and their rows in one transaction, or none of them. attachment_ids, when given, are
    the new rows' ids (a caller that retries names them, so a retry finds what it stored)."""
    committed: list[tuple[str, str]] = []
    stored: list[StoredAttachment] = []
    try:
        async with pool.acquire() as conn, conn.transaction():
            if upload.case_id is not None:
                await _check_case(conn, upload.case_id, principal, upload.files, case_limits)
            # Locks in a fixed order, so two uploads sharing blobs cannot deadlock.
            for sha256 in sorted({f.sha256 for f in upload.files}):
                await repo.lock_blob(conn, sha256)
            for i, staged in enumerate(upload.files):
                assert staged.writer is not None
                key = await staged.writer.commit(staged.sha256)
                committed.append((staged.sha256, key))
                attachment_id = attachment_ids[i] if attachment_ids else uuid.uuid4()
                uploaded_at = await repo.insert_attachment(
                    conn,
                    attachment_id=attachment_id,
                    filename=staged.filename,
                    size=staged.size,
                    content_type=staged.content_type,
                    sha256=staged.sha256,
                    storage_key=key,
                    uploaded_by=principal.user_id,
                    declared_case_id=upload.case_id,
                )
                ref = AttachmentRef(
                    attachment_id=attachment_id,
                    filename=staged.filename,
                    size=staged.size,
                    content_type=staged.content_type,
                    sha256=staged.sha256,
                )
                reference = receipts.issue(receipt_key, ref, principal.user_id, ttl=receipt_ttl)
                stored.append(StoredAttachment(attachment_id, ref.filename, ref.size, ref.content_type, ref.sha256,
                                               uploaded_at, reference))  # fmt: skip
    except BaseException:
        await abort_all(upload.files)
        # Rows were rolled back: a blob committed meanwhile is kept only if another upload references it.
        for sha256, key in committed:
            await release_blob(pool, storage, sha256, key)
        raise
    return stored
