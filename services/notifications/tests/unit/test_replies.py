"""Reply addresses and what an inbound message is, without I/O."""

from __future__ import annotations

import uuid

from notifications.app.inbound import new_text_of
from notifications.domain.replies import ReplyTokens, is_automatic

TOKENS = ReplyTokens(b"k" * 32, "casefold.local")
CASE, OWNER = uuid.uuid4(), uuid.uuid4()


def test_a_reply_address_names_its_case_and_side_and_fits_an_smtp_local_part() -> None:
    address = TOKENS.address("c", CASE, OWNER)

    local = address.partition("@")[0]
    assert len(local) <= 64
    assert TOKENS.claimed(address) == ("c", CASE)
    assert TOKENS.claimed(address.upper().replace("CASEFOLD.LOCAL", "casefold.local")) == ("c", CASE)
    assert TOKENS.verify(address, OWNER)


def test_a_token_for_another_owner_case_or_key_does_not_verify() -> None:
    address = TOKENS.address("c", CASE, OWNER)

    assert not TOKENS.verify(address, uuid.uuid4())
    assert not ReplyTokens(b"x" * 32, "casefold.local").verify(address, OWNER)
    moved = TOKENS.address("c", uuid.uuid4(), OWNER)
    assert not TOKENS.verify(address[:27] + moved[27:], OWNER)
    assert TOKENS.claimed("support@casefold.local") is None
    assert TOKENS.claimed(address.replace("casefold.local", "elsewhere.test")) is None


def test_automatic_mail_is_recognised() -> None:
    assert is_automatic({}, "") is not None
    assert is_automatic({"Auto-Submitted": "auto-replied"}, "a@b") is not None
    assert is_automatic({"Auto-Submitted": "no"}, "a@b") is None
    assert is_automatic({"Precedence": "bulk"}, "a@b") is not None
    assert is_automatic({"X-Autoreply": "yes"}, "a@b") is not None
    assert is_automatic({"Content-Type": "multipart/report; report-type=delivery-status"}, "a@b") is not None
    assert is_automatic({"Subject": "Re: help"}, "a@b") is None


def test_the_new_text_leaves_out_the_quote_and_the_signature() -> None:
    text = (
        "Works now, thanks!\n\nBest regards,\nBob\n--\nBob, ACME\n\nOn Mon, 1 Dec 2026, Support wrote:\n> Try again\n"
    )

    assert new_text_of(text) == "Works now, thanks!"
    assert new_text_of("x" * 30_000).endswith("activity history]")
