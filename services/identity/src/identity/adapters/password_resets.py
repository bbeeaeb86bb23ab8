"""Single-use, expiring password-reset tokens (stored as sha256 only); issuing one retires the user's older ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from identity.adapters.secrets import new_token, token_hash

SUPERSEDE = "UPDATE password_reset_tokens SET used_at = now() WHERE user_id = $1 AND used_at IS NULL"
INSERT = "INSERT INTO password_reset_tokens (token_hash, user_id, email, expires_at) VALUES ($1, $2, $3, $4)"
LIVE = """
    SELECT user_id, email FROM password_reset_tokens WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()
"""
CONSUME = """
    UPDATE password_reset_tokens SET used_at = now(), used_tx = pg_current_xact_id()
    WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()
    RETURNING user_id, email
"""


@dataclass(frozen=True)
class PasswordReset:
    user_id: UUID
    email: str


def _reset(row: asyncpg.Record | None) -> PasswordReset | None:
    return None if row is None else PasswordReset(row["user_id"], row["email"])


async def issue(conn: asyncpg.Connection, user_id: UUID, email: str, expires_at: datetime) -> str:
    """A new token for the link (the only time it exists in clear); the user's earlier unused tokens stop working."""
    token, digest = new_token()
    await conn.execute(SUPERSEDE, user_id)
    await conn.execute(INSERT, digest, user_id, email, expires_at)
    return token


async def peek(conn: asyncpg.Connection | asyncpg.Pool, token: str) -> PasswordReset | None:
    """Whom a live token belongs to, without spending it (the new password is checked before it is used)."""
    return _reset(await conn.fetchrow(LIVE, token_hash(token)))


async def consume(conn: asyncpg.Connection, token: str) -> PasswordReset | None:
    """Spend the token; None when unknown, used, superseded or expired (or spent by a concurrent request)."""
    return _reset(await conn.fetchrow(CONSUME, token_hash(token)))


async def retire_all(conn: asyncpg.Connection, user_id: UUID) -> None:
    await conn.execute(SUPERSEDE, user_id)
