"""Who may read an attachment, and which bytes a Range header asks for."""

from __future__ import annotations

import re
import uuid

import asyncpg

from attachments.adapters import repository as repo
from casefold_events.platform.auth import Principal
from casefold_events.platform.problems import DomainError, NotFound

_SINGLE_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


class RangeNotSatisfiable(DomainError):
    """The requested byte range lies outside the file."""

    status = 416
    slug = "range-not-satisfiable"
    title = "Range not satisfiable"


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
