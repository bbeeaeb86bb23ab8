"""The wire form of an email: RFC 5322 headers and a MIME multipart/alternative body, composed directly.

The standard library's EmailMessage parses every header it is given into an object tree and folds it again on the
way out: that cost more CPU than everything else delivery does for an email together. What we send is always the
same shape (our own headers, a text part and an HTML part), so it is written here with the standard library's
encoders only: RFC 2047 encoded words for a non-ASCII header, quoted-printable or base64 for a body that is not
plain 7-bit text. Headers stay on one line up to RFC 5322's 998 columns (a folded Message-ID or References trips
some mail systems' threading); only a longer or non-ASCII one is folded.
"""

from __future__ import annotations

import base64
import functools
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from email import quoprimime
from email.header import Header
from email.utils import formataddr, getaddresses, parseaddr

CRLF = b"\r\n"
MAX_LINE = 998  # RFC 5322 2.1.1, without the CRLF
ENCODED_LINE = 76  # RFC 2045: quoted-printable and base64 lines
HEADER_ORDER = ("From", "To", "Subject", "Date", "Message-ID", "In-Reply-To", "References", "Auto-Submitted")
ADDRESS_HEADERS = frozenset({"From", "To", "Cc", "Reply-To"})


@dataclass(frozen=True)
class Outgoing:
    """An email as it goes to the SMTP server: the envelope and the message bytes."""

    sender: str
    recipients: list[str]
    data: bytes


def compose(headers: Mapping[str, str], text: str, html: str) -> Outgoing:
    """The message (text first, HTML preferred by clients that can) and its envelope: MAIL FROM the From address,
    RCPT TO every To/Cc address."""
    boundary = _boundary(text, html)
    ordered = [h for h in HEADER_ORDER if h in headers] + sorted(h for h in headers if h not in HEADER_ORDER)
    lines = [_header(name, headers[name]) for name in ordered]
    lines += [b"MIME-Version: 1.0", f'Content-Type: multipart/alternative; boundary="{boundary}"'.encode(), b""]
    for subtype, content in (("plain", text), ("html", html)):
        encoding, body = _body(content)
        lines += [f"--{boundary}".encode(), f'Content-Type: text/{subtype}; charset="utf-8"'.encode(),
                  f"Content-Transfer-Encoding: {encoding}".encode(), b"", body]  # fmt: skip
    lines += [f"--{boundary}--".encode(), b""]
    sender = _address(headers.get("From", ""))
    recipients = [addr for _, addr in getaddresses([headers[h] for h in ("To", "Cc") if headers.get(h)]) if addr]
    return Outgoing(sender, recipients, CRLF.join(lines))


@functools.lru_cache(maxsize=64)
def _address(mailbox: str) -> str:
    """The bare address of a From header (one of a handful: parsing it is not free)."""
    return parseaddr(mailbox)[1]


def _boundary(*parts: str) -> str:
    while True:
        boundary = f"=_casefold_{secrets.token_hex(12)}"
        if not any(boundary in part for part in parts):
            return boundary


def _header(name: str, value: str) -> bytes:
    value = " ".join(value.splitlines())  # never a line break inside a value: no header injection
    line = f"{name}: {value}"
    if value.isascii() and len(line) <= MAX_LINE:
        return line.encode("ascii")
    if name in ADDRESS_HEADERS:
        # Only the display names may be encoded; the addresses must stay readable to the server.
        value = ", ".join(formataddr(pair) for pair in getaddresses([value]))
        line = f"{name}: {value}"
        if value.isascii() and len(line) <= MAX_LINE:
            return line.encode("ascii")
    folded = Header(value, "utf-8" if not value.isascii() else "us-ascii", header_name=name).encode(linesep="\r\n")
    return f"{name}: {folded}".encode()


def _body(content: str) -> tuple[str, bytes]:
    """(Content-Transfer-Encoding, the body with CRLF line ends, ending in one)."""
    lines = content.encode("utf-8").splitlines()
    if content.isascii() and all(len(line) <= MAX_LINE for line in lines):
        return "7bit", CRLF.join(lines) + CRLF
    qp = quoprimime.body_encode(b"\n".join(lines).decode("latin-1"), ENCODED_LINE).encode("ascii")
    b64 = base64.encodebytes(CRLF.join(lines) + CRLF)
    if len(b64) < len(qp):
        return "base64", b64.replace(b"\n", CRLF)
    return "quoted-printable", qp.replace(b"\n", CRLF) + CRLF
