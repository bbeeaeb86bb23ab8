"""Attachment receipts verify only when we issued them, unchanged and in time."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from casefold_events.contracts import AttachmentRef
from casefold_events.receipts import InvalidReceipt, issue, verify

KEY = b"k" * 32
REF = AttachmentRef(attachment_id=uuid.uuid4(), filename="log.txt", size=12, content_type="text/plain", sha256="a" * 64)
USER = uuid.uuid4()


def test_a_receipt_round_trips() -> None:
    receipt = verify(KEY, issue(KEY, REF, USER))
    assert receipt.attachment == REF
    assert receipt.uploaded_by == USER


def test_a_tampered_receipt_is_refused() -> None:
    payload, mac = issue(KEY, REF, USER).split(".")
    forged = issue(b"other-key-000000000000000000000000", REF, uuid.uuid4()).split(".")[0]
    with pytest.raises(InvalidReceipt):
        verify(KEY, f"{forged}.{mac}")
    with pytest.raises(InvalidReceipt):
        verify(KEY, f"{payload}.{mac[:-2]}xx")


def test_a_receipt_under_another_key_is_refused() -> None:
    with pytest.raises(InvalidReceipt):
        verify(KEY, issue(b"x" * 32, REF, USER))


def test_an_expired_receipt_is_refused() -> None:
    token = issue(KEY, REF, USER, ttl=timedelta(minutes=5))
    with pytest.raises(InvalidReceipt, match="expired"):
        verify(KEY, token, now=datetime.now(UTC) + timedelta(minutes=6))


@pytest.mark.parametrize("junk", ["", "abc", "a.b.c", "x" * 5000, "!!!.???"])
def test_junk_is_refused(junk: str) -> None:
    with pytest.raises(InvalidReceipt):
        verify(KEY, junk)
