"""Attachment receipts: the claim check the attachments service hands out and the cases service verifies.

A receipt is `<payload>.<mac>`, both base64url: the payload is the attachment's metadata and its uploader, the mac
an HMAC-SHA256 under a key both services share (never sent to clients). The cases service trusts what a valid
receipt says without asking the attachments service, and refuses a receipt issued to somebody else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError

from casefold_events.contracts import AttachmentRef

MAX_RECEIPT_LENGTH = 4096


class InvalidReceipt(ValueError):
    """Not a receipt we issued, tampered with, or expired."""


class Receipt(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    attachment: AttachmentRef
    uploaded_by: UUID
    expires_at: AwareDatetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, payload: str) -> str:
    return _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest())


def issue(key: bytes, attachment: AttachmentRef, uploaded_by: UUID, ttl: timedelta = timedelta(days=1)) -> str:
    """A receipt for an upload, valid for ttl (unlinked uploads are collected after that)."""
    receipt = Receipt(attachment=attachment, uploaded_by=uploaded_by, expires_at=datetime.now(UTC) + ttl)
    payload = _b64(receipt.model_dump_json().encode())
    return f"{payload}.{_mac(key, payload)}"


def verify(key: bytes, token: str, *, now: datetime | None = None) -> Receipt:
    """The receipt's content, if we issued it and it has not expired; InvalidReceipt otherwise."""
    if len(token) > MAX_RECEIPT_LENGTH or token.count(".") != 1:
        raise InvalidReceipt("not an attachment reference")
    payload, mac = token.split(".")
    if not hmac.compare_digest(mac, _mac(key, payload)):
        raise InvalidReceipt("attachment reference is not valid")
    try:
        receipt = Receipt.model_validate_json(_unb64(payload))
    except (ValueError, ValidationError) as exc:
        raise InvalidReceipt("attachment reference is not valid") from exc
    if receipt.expires_at <= (now or datetime.now(UTC)):
        raise InvalidReceipt("attachment reference has expired; upload the file again")
    return receipt
