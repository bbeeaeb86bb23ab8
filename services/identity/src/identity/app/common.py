"""What the handlers share: their dependencies (Identity, built by bootstrap.py), metadata from a caller, and
read-model clashes mapped to clear 409s."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar
from uuid import UUID

import asyncpg

from casefold_events.envelope import Actor, Metadata
from casefold_events.store import Repository, in_transaction
from casefold_platform.auth import Principal
from casefold_platform.tracing import current_traceparent
from identity.app.hashing import HashGate
from identity.app.tokens import AccessTokens
from identity.config import Settings
from identity.domain.errors import Conflict
from identity.domain.model import User
from identity.domain.passwords import Passwords

T = TypeVar("T")

EMAIL_TAKEN = "An account with this email address already exists."
NAME_TAKEN = "This display name (or one that looks the same) is already taken; choose another."


@dataclass
class Identity:
    """The handlers' dependencies: database pool, event store, password hasher (behind its gate), tokens."""

    settings: Settings
    pool: asyncpg.Pool
    users: Repository[User]
    passwords: Passwords
    access_tokens: AccessTokens
    hashing: HashGate


def metadata_for(user_id: UUID | None = None, role: str = "system") -> Metadata:
    actor = Actor(user_id=user_id, role=role) if user_id is not None else Actor()
    return Metadata(actor=actor, traceparent=current_traceparent())


def metadata_of(principal: Principal) -> Metadata:
    return metadata_for(principal.user_id, principal.role)


async def transact(pool: asyncpg.Pool, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    """in_transaction, with a race lost on a unique email reported like the pre-check would (display names are
    claimed under a lock instead: users.claim_display_name)."""
    try:
        return await in_transaction(pool, work)
    except asyncpg.UniqueViolationError as exc:
        if exc.constraint_name == "users_email_key_unique":
            raise Conflict(EMAIL_TAKEN) from None
        raise
