"""Opaque 256-bit tokens handed to users; only their sha256 is ever stored."""

from __future__ import annotations

import hashlib
import secrets

MAX_TOKEN_LENGTH = 128


def new_token() -> tuple[str, bytes]:
    """A fresh url-safe token and the hash to store."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()
