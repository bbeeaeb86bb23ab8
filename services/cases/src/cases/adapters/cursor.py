"""Opaque keyset cursors: (last_activity_at, id) of the last row of a page, base64url-encoded."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from uuid import UUID

from cases.domain.errors import InvalidCursor

MAX_CURSOR_LENGTH = 200


def encode_cursor(last_activity_at: datetime, case_id: UUID) -> str:
    raw = f"{last_activity_at.isoformat()}|{case_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    """The position a cursor names; InvalidCursor for anything we did not issue."""
    try:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, _, ident = raw.partition("|")
        at = datetime.fromisoformat(when)
        if at.tzinfo is None:
            raise ValueError("naive time")
        return at, UUID(ident)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCursor from exc


def encode_urgency_cursor(
    prioritised: bool, deadline: datetime | None, severity: int, opened_at: datetime, case_id: UUID
) -> str:
    """The urgency order's position of a queue row: (prioritised, next deadline, severity, opened_at, id)."""
    raw = (
        f"u|{int(prioritised)}|{deadline.isoformat() if deadline else ''}|{severity}|{opened_at.isoformat()}|{case_id}"
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_urgency_cursor(cursor: str) -> tuple[bool, datetime | None, int, datetime, UUID]:
    """The position an urgency cursor names; InvalidCursor for anything we did not issue."""
    try:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        tag, prioritised, deadline, severity, opened_at, ident = raw.split("|")
        if tag != "u" or prioritised not in ("0", "1"):
            raise ValueError("not an urgency cursor")
        due = datetime.fromisoformat(deadline) if deadline else None
        opened = datetime.fromisoformat(opened_at)
        if opened.tzinfo is None or (due is not None and due.tzinfo is None):
            raise ValueError("naive time")
        return prioritised == "1", due, int(severity), opened, UUID(ident)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCursor from exc
