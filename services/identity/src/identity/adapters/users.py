"""The users read model (lookups by id, email and display name) and the credentials table."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import asyncpg

from casefold_events import locks
from identity.domain.display_names import DISPLAY_KEY_VERSION, display_name_key
from identity.domain.emails import email_key
from identity.domain.model import User

_COLUMNS = "id, email, display_name, role, email_verified, pending_email, version, disabled"
BY_ID = f"SELECT {_COLUMNS} FROM users WHERE id = $1"
BY_EMAIL = f"SELECT {_COLUMNS} FROM users WHERE email_key = $1"
# Oldest first: where old accounts share a key (kept from before key version 2), one of them answers.
ID_BY_DISPLAY_KEY = "SELECT id FROM users WHERE display_key = $1 AND id IS DISTINCT FROM $2 LIMIT 1"
LOCK_DISPLAY_KEY = f"SELECT pg_advisory_xact_lock({locks.DISPLAY_NAME_KEY.key_sql})"
STALE_DISPLAY_KEYS = "SELECT id, display_name FROM users WHERE display_key_version < $1 ORDER BY id LIMIT $2"
SET_DISPLAY_KEY = "UPDATE users SET display_key = $2, display_key_version = $3 WHERE id = $1"
ID_BY_EMAIL_KEY = "SELECT id FROM users WHERE email_key = $1"
UPSERT = """
    INSERT INTO users (id, email, email_key, display_name, display_key, role, email_verified, pending_email, version,
                       disabled, display_key_version)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
    ON CONFLICT (id) DO UPDATE SET
        email = EXCLUDED.email, email_key = EXCLUDED.email_key, display_name = EXCLUDED.display_name,
        display_key = EXCLUDED.display_key, role = EXCLUDED.role, email_verified = EXCLUDED.email_verified,
        pending_email = EXCLUDED.pending_email, version = EXCLUDED.version, disabled = EXCLUDED.disabled,
        display_key_version = EXCLUDED.display_key_version, updated_at = now()
"""
HASH_OF_USER = "SELECT password_hash FROM credentials WHERE user_id = $1"
UPSERT_CREDENTIAL = """
    INSERT INTO credentials (user_id, password_hash) VALUES ($1, $2)
    ON CONFLICT (user_id) DO UPDATE SET password_hash = EXCLUDED.password_hash, changed_at = now()
"""
LOGIN_LOOKUP = """
    SELECT u.id, c.password_hash FROM users u LEFT JOIN credentials c ON c.user_id = u.id WHERE u.email_key = $1
"""
# Unconfirmed customers older than the TTL (the created_at of the read model is the sign-up time).
EXPIRED_UNVERIFIED = """
    SELECT id FROM users
    WHERE NOT email_verified AND role = 'customer' AND created_at < now() - make_interval(secs => $1)
    ORDER BY created_at LIMIT $2
"""
# Everything that refers to the user, then the user: frees the email and display-name keys.
FORGET = [
    "DELETE FROM refresh_tokens WHERE family_id IN (SELECT family_id FROM sessions WHERE user_id = $1)",
    "DELETE FROM sessions WHERE user_id = $1",
    "DELETE FROM confirmation_tokens WHERE user_id = $1",
    "DELETE FROM password_reset_tokens WHERE user_id = $1",
    "DELETE FROM credentials WHERE user_id = $1",
    "DELETE FROM users WHERE id = $1",
]
ADMIN_EXISTS = "SELECT EXISTS (SELECT 1 FROM users WHERE role = 'admin')"


@dataclass(frozen=True)
class UserRow:
    id: UUID
    email: str
    display_name: str
    role: str
    email_verified: bool
    pending_email: str | None
    version: int
    disabled: bool = False


def _row(record: asyncpg.Record | None) -> UserRow | None:
    return None if record is None else UserRow(**dict(record))


async def by_id(conn: asyncpg.Connection | asyncpg.Pool, user_id: UUID) -> UserRow | None:
    return _row(await conn.fetchrow(BY_ID, user_id))


async def by_email(conn: asyncpg.Connection | asyncpg.Pool, email: str) -> UserRow | None:
    return _row(await conn.fetchrow(BY_EMAIL, email_key(email)))


async def email_taken(conn: asyncpg.Connection, email: str, *, by_other_than: UUID | None = None) -> bool:
    owner = await conn.fetchval(ID_BY_EMAIL_KEY, email_key(email))
    return owner is not None and owner != by_other_than


async def display_name_taken(
    conn: asyncpg.Connection | asyncpg.Pool, name: str, *, by_other_than: UUID | None = None
) -> bool:
    return await conn.fetchval(ID_BY_DISPLAY_KEY, display_name_key(name), by_other_than) is not None


async def claim_display_name(conn: asyncpg.Connection, name: str, *, by_other_than: UUID | None = None) -> bool:
    """Lock the name's key until the transaction ends, then tell whether someone else holds it (True: taken).

    The lock does what a unique constraint cannot since key version 2: two claims of look-alike names serialise,
    while old accounts that share a key keep their names.
    """
    await conn.execute(LOCK_DISPLAY_KEY, display_name_key(name))
    return await display_name_taken(conn, name, by_other_than=by_other_than)


async def refresh_display_keys(pool: asyncpg.Pool, batch: int = 500) -> int:
    """Recompute the keys written by an older key version (names unchanged); returns how many rows."""
    done = 0
    while rows := await pool.fetch(STALE_DISPLAY_KEYS, DISPLAY_KEY_VERSION, batch):
        await pool.executemany(
            SET_DISPLAY_KEY, [(r["id"], display_name_key(r["display_name"]), DISPLAY_KEY_VERSION) for r in rows]
        )
        done += len(rows)
    return done


async def project(conn: asyncpg.Connection, user: User) -> None:
    """Write the aggregate's current state (called in the append transaction); an expired user is removed."""
    if user.expired:
        for statement in FORGET:
            await conn.execute(statement, user.user_id)
        return
    await conn.execute(
        UPSERT, user.user_id, user.email, email_key(user.email), user.display_name,
        display_name_key(user.display_name), user.role, user.email_verified, user.pending_email, user.version,
        user.disabled, DISPLAY_KEY_VERSION,
    )  # fmt: skip


async def password_hash(conn: asyncpg.Connection | asyncpg.Pool, user_id: UUID) -> str | None:
    value = await conn.fetchval(HASH_OF_USER, user_id)
    return None if value is None else str(value)


async def set_password_hash(conn: asyncpg.Connection, user_id: UUID, password_hash: str) -> None:
    await conn.execute(UPSERT_CREDENTIAL, user_id, password_hash)


async def login_lookup(conn: asyncpg.Connection | asyncpg.Pool, key: str) -> tuple[UUID | None, str | None]:
    """(user id, password hash) by email key, in one query whether or not the account exists (same timing)."""
    row = await conn.fetchrow(LOGIN_LOOKUP, key)
    return (None, None) if row is None else (row["id"], row["password_hash"])


async def expired_unverified(conn: asyncpg.Connection | asyncpg.Pool, ttl_seconds: int, limit: int) -> list[UUID]:
    return [r["id"] for r in await conn.fetch(EXPIRED_UNVERIFIED, float(ttl_seconds), limit)]


async def admin_exists(conn: asyncpg.Connection | asyncpg.Pool) -> bool:
    return bool(await conn.fetchval(ADMIN_EXISTS))
