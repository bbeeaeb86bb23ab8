"""Who may read an attachment, and which bytes a Range header asks for."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator

import asyncpg
import structlog

from attachments.adapters import repository as repo
from attachments.adapters.storage import BlobMissing
from casefold_platform.auth import Principal
from casefold_platform.problems import DomainError, NotFound

_SINGLE_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
log = structlog.get_logger("attachments.downloads")


class RangeNotSatisfiable(DomainError):
    """The requested byte range lies outside the file."""

    status = 416
    slug = "range-not-satisfiable"
    title = "Range not satisfiable"


class ContentGone(DomainError):
    """The attachment is on record but its bytes are not in the store any more."""

    status = 410
    slug = "attachment-content-gone"
    title = "Attachment content gone"


async def opened(attachment_id: uuid.UUID, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The chunks with the first one already read, so that a blob that is gone fails before the status line is sent
    (410, logged for the operators) instead of cutting a 200 download short."""
    try:
        first = await anext(chunks, b"")
    except BlobMissing as exc:
        log.error("attachment_blob_missing", attachment_id=str(attachment_id), storage_key=str(exc))
        raise ContentGone("The file's content is no longer available; please upload it again.") from None

    async def all_chunks() -> AsyncIterator[bytes]:
        if first:
            yield first
        async for chunk in chunks:
            yield chunk

    return all_chunks()


async def readable_attachment(
    conn: asyncpg.Connection, attachment_id: uuid.UUID, principal: Principal
) -> repo.AttachmentRow:
    """The attachment, if the caller may read it: its uploader before it is linked, then the case owner or an agent.

    Anything else is 404, exactly like an id that does not exist.
    """
    row = await repo.get_attachment(conn, attachment_id)
    if row is None:
        raise NotFound("No such attachment.")
    if not await repo.is_linked(conn, attachment_id):
        if row.uploaded_by == principal.user_id:
            return row
        raise NotFound("No such attachment.")
    if principal.is_agent or principal.user_id in await repo.linked_owners(conn, attachment_id):
        return row
    raise NotFound("No such attachment.")


def requested_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) inclusive for one satisfiable byte range; None to send everything; 416 when unsatisfiable.

    A unit other than bytes, or several ranges, is answered with the whole file (RFC 9110 lets a server ignore Range).
    """
    if header is None:
        return None
    header = header.strip()
    if not header.lower().startswith("bytes=") or "," in header:
        return None
    match = _SINGLE_RANGE.fullmatch(header.replace(" ", "").lower())
    first_text, last_text = match.groups() if match else ("", "")
    unsatisfiable = RangeNotSatisfiable(
        f"The range {header[:60]!r} is not satisfiable for a file of {size} bytes.",
        headers={"Content-Range": f"bytes */{size}"},
    )
    if match is None or (not first_text and not last_text):
        raise unsatisfiable
    if not first_text:
        suffix = int(last_text)
        if suffix == 0:
            raise unsatisfiable
        return max(0, size - suffix), size - 1
    first = int(first_text)
    last = int(last_text) if last_text else size - 1
    if first >= size or last < first:
        raise unsatisfiable
    return first, min(last, size - 1)
