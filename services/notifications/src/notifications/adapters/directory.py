"""The user directory projection (id -> address, display name, verified, role, disabled), from identity.events.v1."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import asyncpg


@dataclass(frozen=True)
class User:
    user_id: UUID
    email: str
    display_name: str
    verified: bool
    role: str
    disabled: bool = False

    @property
    def is_current_agent(self) -> bool:
        """May receive agent mail and reply by email as an agent: an agent or admin whose account is enabled."""
        return self.role in AGENT_ROLES and not self.disabled


AGENT_ROLES = frozenset({"agent", "admin"})


REGISTER = """
INSERT INTO users (user_id, email, display_name, role) VALUES ($1, $2, $3, $4)
ON CONFLICT (user_id) DO NOTHING
"""
SET_EMAIL = "UPDATE users SET email = $2, verified = $3, updated_at = now() WHERE user_id = $1"
SET_DISPLAY_NAME = "UPDATE users SET display_name = $2, updated_at = now() WHERE user_id = $1"
SET_ROLE = "UPDATE users SET role = $2, updated_at = now() WHERE user_id = $1"
# The account's state follows its stream version: a replayed older UserDisabled / UserEnabled changes nothing.
SET_DISABLED = """
UPDATE users SET disabled = $2, disabled_version = $3, updated_at = now() WHERE user_id = $1 AND disabled_version < $3
"""
COLUMNS = "user_id, email, display_name, verified, role, disabled"  # a User's fields, in order
GET = f"SELECT {COLUMNS} FROM users WHERE user_id = $1"
AGENT_BY_EMAIL = f"""
SELECT {COLUMNS} FROM users
WHERE lower(email) = lower($1) AND role IN ('agent', 'admin') AND verified AND NOT disabled
"""


async def register(conn: asyncpg.Connection, user_id: UUID, email: str, display_name: str, role: str) -> None:
    await conn.execute(REGISTER, user_id, email, display_name, role)


async def set_email(conn: asyncpg.Connection, user_id: UUID, email: str, *, verified: bool) -> bool:
    """False when the user is unknown (their registration has not arrived)."""
    return str(await conn.execute(SET_EMAIL, user_id, email, verified)) != "UPDATE 0"


async def set_display_name(conn: asyncpg.Connection, user_id: UUID, display_name: str) -> bool:
    return str(await conn.execute(SET_DISPLAY_NAME, user_id, display_name)) != "UPDATE 0"


async def set_role(conn: asyncpg.Connection, user_id: UUID, role: str) -> bool:
    return str(await conn.execute(SET_ROLE, user_id, role)) != "UPDATE 0"


async def set_disabled(conn: asyncpg.Connection, user_id: UUID, *, disabled: bool, version: int) -> bool:
    """False when nothing changed: the user is unknown, or a later event of their stream was applied already."""
    return str(await conn.execute(SET_DISABLED, user_id, disabled, version)) != "UPDATE 0"


async def get(conn: asyncpg.Connection, user_id: UUID) -> User | None:
    row = await conn.fetchrow(GET, user_id)
    return User(**dict(row)) if row else None


async def agent_by_email(conn: asyncpg.Connection, email: str) -> User | None:
    """The enabled agent (or admin) with this verified address, if any."""
    row = await conn.fetchrow(AGENT_BY_EMAIL, email)
    return User(**dict(row)) if row else None
