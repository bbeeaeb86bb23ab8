"""The composed wire form reads back, with the standard library's parser, as exactly the email we meant."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

import pytest

from notifications.adapters.mime import compose

HEADERS = {
    "From": "Casefold Support <support@casefold.local>",
    "To": "Ada Lovelace <ada@customer.test>",
    "Subject": "[Case 00001042] Login page is slow",
    "Date": "Wed, 02 Dec 2026 03:00:00 +0000",
    "Message-ID": "<0190a3c4-0000-7000-8000-000000000001.ack@casefold.local>",
    "Auto-Submitted": "auto-generated",
}


def _parsed(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    assert not message.defects
    return message


def _bodies(message: EmailMessage) -> tuple[str, str]:
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None
    assert html is not None
    # On the wire every line ends in CRLF; the text we rendered ends its lines in LF.
    return text.get_content().replace("\r\n", "\n"), html.get_content().replace("\r\n", "\n")


def test_a_plain_email_is_multipart_alternative_text_first_with_every_header() -> None:
    out = compose(HEADERS, "Hello Ada,\n\nWe opened case 00001042.\n", "<p>Hello Ada,</p>\n")
    message = _parsed(out.data)

    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert {name: str(message[name]) for name in HEADERS} == HEADERS
    assert _bodies(message) == ("Hello Ada,\n\nWe opened case 00001042.\n", "<p>Hello Ada,</p>\n")
    assert out.data.endswith(b"--\r\n")
    assert b"\n" not in out.data.replace(b"\r\n", b"")  # every line ends in CRLF


def test_the_envelope_is_the_from_address_and_every_to_and_cc_address() -> None:
    out = compose({**HEADERS, "To": "Ada <ada@customer.test>, bob@customer.test", "Cc": "Eve <eve@x.test>"}, "t", "h")

    assert out.sender == "support@casefold.local"
    assert out.recipients == ["ada@customer.test", "bob@customer.test", "eve@x.test"]


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("Grüße aus Köln: la connexion échoue.\n", "<p>Grüße aus Köln</p>\n"),
        ("ログインが遅い。\nもう一度。\n", "<p>ログインが遅い</p>\n"),
        ("x" * 1500 + "\nshort\n", "<p>" + "y" * 1200 + "</p>\n"),
        ("ends with a space \n.starts with a dot\n\n", "<p>=3D is not an escape here</p>\n"),
    ],
    ids=["accents", "cjk", "lines-over-998", "spaces-dots-equals"],
)
def test_bodies_that_are_not_short_ascii_lines_arrive_unchanged(text: str, html: str) -> None:
    out = compose(HEADERS, text, html)

    assert _bodies(_parsed(out.data)) == (text, html)
    assert all(len(line) <= 998 for line in out.data.split(b"\r\n"))
    assert out.data.isascii()


def test_a_non_ascii_subject_and_display_name_are_encoded_and_read_back() -> None:
    subject = "[Case 00000007] Ümlauts in the subject, 日本語も"
    headers = {**HEADERS, "Subject": subject, "To": "Zoë Ağaoğlu <zoe@x.test>"}

    out = compose(headers, "t\n", "<p>h</p>\n")
    message = _parsed(out.data)

    assert str(message["Subject"]) == headers["Subject"]
    assert str(message["To"]) == headers["To"]
    assert out.recipients == ["zoe@x.test"]
    assert out.data.isascii()


def test_message_id_and_a_long_references_chain_stay_on_one_line() -> None:
    chain = " ".join(f"<0190a3c4-0000-7000-8000-00000000000{n}.agent-comment@casefold.local>" for n in range(10))
    headers = {**HEADERS, "In-Reply-To": chain.split()[-1], "References": chain}

    out = compose(headers, "t\n", "<p>h</p>\n")

    assert f"References: {chain}\r\n".encode() in out.data
    assert str(_parsed(out.data)["References"]) == chain


def test_a_line_break_in_a_header_value_cannot_add_a_header() -> None:
    out = compose({**HEADERS, "Subject": "Hello\r\nBcc: victim@x.test"}, "t\n", "<p>h</p>\n")
    message = _parsed(out.data)

    assert message["Bcc"] is None
    assert str(message["Subject"]) == "Hello Bcc: victim@x.test"
