"""Sessions (families of rotating refresh tokens) and the access tokens issued with each refresh token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from identity.adapters.secrets import token_hash

CREATE_SESSION = "INSERT INTO sessions (family_id, user_id) VALUES ($1, $2)"
INSERT_ISSUE = """
    INSERT INTO refresh_tokens (token_hash, family_id, parent_hash, expires_at, access_jti, access_expires_at)
    VALUES ($1, $2, $3, $4, $5, $6)
"""
# FOR UPDATE: two refreshes racing with the same token serialise here; the second sees it rotated (reuse).
LOCK_ISSUE = """
    SELECT t.token_hash, t.family_id, t.expires_at, t.rotated_at, s.user_id, s.revoked_at
    FROM refresh_tokens t JOIN sessions s USING (family_id)
    WHERE t.token_hash = $1
    FOR UPDATE OF t, s
"""
MARK_ROTATED = "UPDATE refresh_tokens SET rotated_at = now() WHERE token_hash = $1"
REVOKE_FAMILY = """
    UPDATE sessions SET revoked_at = now(), revoked_reason = $2 WHERE family_id = $1 AND revoked_at IS NULL
"""
REVOKE_USER_SESSIONS = """
    UPDATE sessions SET revoked_at = now(), revoked_reason = $3
    WHERE user_id = $1 AND revoked_at IS NULL AND family_id IS DISTINCT FROM $2
"""
ISSUE_REVOKED = """
    SELECT s.revoked_at IS NOT NULL FROM refresh_tokens t JOIN sessions s USING (family_id) WHERE t.access_jti = $1
"""
# Only tokens that have not expired yet matter: the list stays as small as the logouts of the last 15 minutes.
REVOKED_ACCESS_TOKENS = """
    SELECT t.access_jti, t.access_expires_at FROM refresh_tokens t JOIN sessions s USING (family_id)
    WHERE s.revoked_at IS NOT NULL AND t.access_expires_at > now() - make_interval(secs => $1)
    ORDER BY t.access_expires_at
"""


@dataclass(frozen=True)
class RefreshTokenRow:
    token_hash: bytes
    family_id: UUID
    user_id: UUID
    expires_at: datetime
    rotated_at: datetime | None
    revoked_at: datetime | None


async def create_session(conn: asyncpg.Connection, family_id: UUID, user_id: UUID) -> None:
    await conn.execute(CREATE_SESSION, family_id, user_id)


async def record_issue(
    conn: asyncpg.Connection,
    *,
    refresh_hash: bytes,
    family_id: UUID,
    parent_hash: bytes | None,
    expires_at: datetime,
    access_jti: str,
    access_expires_at: datetime,
) -> None:
    await conn.execute(INSERT_ISSUE, refresh_hash, family_id, parent_hash, expires_at, access_jti, access_expires_at)


async def lock_refresh_token(conn: asyncpg.Connection, token: str) -> RefreshTokenRow | None:
    row = await conn.fetchrow(LOCK_ISSUE, token_hash(token))
    return None if row is None else RefreshTokenRow(**dict(row))


async def mark_rotated(conn: asyncpg.Connection, refresh_hash: bytes) -> None:
    await conn.execute(MARK_ROTATED, refresh_hash)


async def revoke_family(conn: asyncpg.Connection, family_id: UUID, reason: str) -> None:
    await conn.execute(REVOKE_FAMILY, family_id, reason)


async def revoke_other_sessions(conn: asyncpg.Connection, user_id: UUID, keep: UUID | None, reason: str) -> None:
    await conn.execute(REVOKE_USER_SESSIONS, user_id, keep, reason)


async def is_access_token_revoked(conn: asyncpg.Connection | asyncpg.Pool, jti: str) -> bool:
    """True when the token's session was revoked (or the token was never issued by this service)."""
    revoked = await conn.fetchval(ISSUE_REVOKED, jti)
    return revoked is None or bool(revoked)


async def revoked_access_tokens(
    conn: asyncpg.Connection | asyncpg.Pool, grace_seconds: float
) -> list[tuple[str, datetime]]:
    """(jti, expires_at) of every revoked access token that has not been expired for longer than grace_seconds."""
    return [(r["access_jti"], r["access_expires_at"]) for r in await conn.fetch(REVOKED_ACCESS_TOKENS, grace_seconds)]
