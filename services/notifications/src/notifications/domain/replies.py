"""Replies by email: the reply address of a case email, and what an inbound message is.

Every case email carries `Reply-To: support+<token>@<reply domain>`. The token names the case and which side it was
sent to ("c": the case owner, "a": the support team) and carries an HMAC over both and, for the owner's side, the
owner's id: it cannot be guessed or moved to another case, and it is checked before anything is read or stored.
43 characters, lower case, so the whole local part stays well inside SMTP's 64.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from uuid import UUID

Side = Literal["c", "a"]  # c: sent to the case owner; a: sent to the support team (agents answer)
_MAC_BYTES = 10
_LOCAL = re.compile(r"^support\+([ca][a-z2-7]{42})$", re.IGNORECASE)
# Headers by which mail systems mark a message no person wrote now (RFC 3834, and the common de-facto ones).
_BULK_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}
_AUTO_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress", "List-Id", "List-Unsubscribe")


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode().rstrip("=").lower()


def _unb32(text: str) -> bytes:
    return base64.b32decode(text.upper() + "=" * (-len(text) % 8))


def _mac(key: bytes, side: Side, case_id: UUID, owner_id: UUID | None) -> bytes:
    message = b"casefold-reply|" + side.encode() + case_id.bytes + (owner_id.bytes if owner_id else b"")
    return hmac.new(key, message, hashlib.sha256).digest()[:_MAC_BYTES]


@dataclass(frozen=True)
class ReplyTokens:
    """Makes and checks reply addresses with one secret key."""

    key: bytes
    domain: str

    def address(self, side: Side, case_id: UUID, owner_id: UUID | None = None) -> str:
        token = side + _b32(case_id.bytes) + _b32(_mac(self.key, side, case_id, owner_id if side == "c" else None))
        return f"support+{token}@{self.domain}"

    def claimed(self, address: str) -> tuple[Side, UUID] | None:
        """The side and case an address claims to be for; None when it is no reply address of ours.
        The claim is verified by `verify` once the case's owner is known."""
        local, _, domain = address.strip("<>").rpartition("@")
        found = _LOCAL.match(local)
        if not found or domain.lower() != self.domain.lower():
            return None
        token = found.group(1).lower()
        try:
            case_id = UUID(bytes=_unb32(token[1:27]))
        except (binascii.Error, ValueError):
            return None
        side: Side = "c" if token[0] == "c" else "a"
        return side, case_id

    def verify(self, address: str, owner_id: UUID) -> bool:
        claim = self.claimed(address)
        if claim is None:
            return False
        side, case_id = claim
        expected = self.address(side, case_id, owner_id if side == "c" else None)
        return hmac.compare_digest(expected.partition("@")[0].lower(), address.strip("<>").partition("@")[0].lower())


def is_automatic(headers: Mapping[str, str], envelope_sender: str) -> str | None:
    """Why a message must never be answered nor become a comment (bounce, auto-reply, bulk); None for a person's."""
    if envelope_sender in ("", "<>"):
        return "null sender (a bounce)"
    auto = headers.get("Auto-Submitted", "").strip().lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    if headers.get("Precedence", "").strip().lower() in _BULK_PRECEDENCE:
        return f"Precedence: {headers['Precedence'].strip()}"
    for name in _AUTO_HEADERS:
        if name in headers:
            return f"{name} header"
    if headers.get("Content-Type", "").lower().startswith("multipart/report"):
        return "delivery report"
    return None
