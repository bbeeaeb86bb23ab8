"""Attachment references are the attachments service's signed receipts; verified here without calling it."""

from __future__ import annotations

from casefold_events.receipts import InvalidReceipt, verify
from cases.domain.commands import VerifiedAttachment
from cases.domain.errors import invalid


def verify_reference(key: bytes, reference: str, field: str) -> VerifiedAttachment:
    """What a valid, unexpired receipt says; 422 naming the command's `field` otherwise."""
    try:
        receipt = verify(key, reference)
    except InvalidReceipt as exc:
        raise invalid(field, str(exc)) from exc
    return VerifiedAttachment(ref=receipt.attachment, uploaded_by=receipt.uploaded_by)
