"""Opaque keyset cursors: (last_activity_at, id) of the last row of a page, base64url-encoded."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from uuid import UUID

from cases.domain.errors import InvalidCursor

MAX_CURSOR_LENGTH = 200


def _pack(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _unpack(cursor: str) -> str:
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise ValueError("too long")
    return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()


def encode_cursor(last_activity_at: datetime, case_id: UUID) -> str:
    return _pack(f"{last_activity_at.isoformat()}|{case_id}")


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    """The position a cursor names; InvalidCursor for anything we did not issue."""
    try:
        when, _, ident = _unpack(cursor).partition("|")
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
    due = deadline.isoformat() if deadline else ""
    return _pack(f"u|{int(prioritised)}|{due}|{severity}|{opened_at.isoformat()}|{case_id}")


def decode_urgency_cursor(cursor: str) -> tuple[bool, datetime | None, int, datetime, UUID]:
    """The position an urgency cursor names; InvalidCursor for anything we did not issue."""
    try:
        tag, prioritised, deadline, severity, opened_at, ident = _unpack(cursor).split("|")
        if tag != "u" or prioritised not in ("0", "1"):
            raise ValueError("not an urgency cursor")
        due = datetime.fromisoformat(deadline) if deadline else None
        opened = datetime.fromisoformat(opened_at)
        if opened.tzinfo is None or (due is not None and due.tzinfo is None):
            raise ValueError("naive time")
        return prioritised == "1", due, int(severity), opened, UUID(ident)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCursor from exc
