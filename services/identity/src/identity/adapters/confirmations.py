"""Single-use, expiring confirmation tokens (stored as sha256 only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from uuid import UUID

import asyncpg

from identity.adapters.secrets import new_token, token_hash

Purpose = Literal["confirm-email", "confirm-email-change"]

INSERT = """
    INSERT INTO confirmation_tokens (token_hash, user_id, purpose, email, expires_at) VALUES ($1, $2, $3, $4, $5)
"""
# Issuing a new link retires the user's earlier unused links of that purpose: only the latest one works.
SUPERSEDE = """
    UPDATE confirmation_tokens SET used_at = now() WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL
"""
CONSUME = """
    UPDATE confirmation_tokens SET used_at = now()
    WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()
    RETURNING user_id, purpose, email
"""


@dataclass(frozen=True)
class Confirmation:
    user_id: UUID
    purpose: Purpose
    email: str


async def issue(conn: asyncpg.Connection, user_id: UUID, purpose: Purpose, email: str, expires_at: datetime) -> str:
    """A new token for the link (the only time it exists in clear)."""
    token, digest = new_token()
    await conn.execute(SUPERSEDE, user_id, purpose)
    await conn.execute(INSERT, digest, user_id, purpose, email, expires_at)
    return token


async def consume(conn: asyncpg.Connection, token: str) -> Confirmation | None:
    """Mark the token used and return what it confirms; None when unknown, used or expired."""
    row = await conn.fetchrow(CONSUME, token_hash(token))
    if row is None:
        return None
    return Confirmation(row["user_id"], row["purpose"], row["email"])
