"""User administration (admins only): list and search users, disable and enable accounts, read a user's audit."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from casefold_platform.auth import Principal
from casefold_platform.problems import FieldError, InvalidInput, NotFound
from identity.adapters import admin, sessions, users
from identity.adapters.admin import ListedUser, RecordedUserEvent
from identity.app.common import Identity, metadata_of, transact
from identity.domain.model import User

ACCOUNT_DISABLED = "account disabled"
NO_SUCH_USER = "No such user."


@dataclass(frozen=True)
class UserPage:
    items: list[ListedUser]
    next_cursor: str | None


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    action: str
    actor_id: UUID | None
    actor_name: str | None
    detail: str


def _cursor_of(user: ListedUser) -> str:
    return base64.urlsafe_b64encode(f"{user.created_at.isoformat()}|{user.id}".encode()).decode()


def _after(cursor: str) -> tuple[datetime, UUID]:
    try:
        created_at, user_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return datetime.fromisoformat(created_at), UUID(user_id)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        message = "The cursor is not one this list gave out."
        raise InvalidInput(message, errors=[FieldError("query.cursor", message)]) from exc


async def list_users(ctx: Identity, query: str | None, cursor: str | None, limit: int) -> UserPage:
    """Newest first; query matches email or display name (case-insensitive substring)."""
    after = _after(cursor) if cursor else None
    rows = await admin.list_users(ctx.pool, query.strip() or None if query else None, after, limit + 1)
    page = rows[:limit]
    return UserPage(page, _cursor_of(page[-1]) if len(rows) > limit else None)


async def _change(ctx: Identity, caller: Principal, user_id: UUID, command: Callable[[User], list[Any]]) -> None:
    async def work(conn: asyncpg.Connection) -> None:
        user = await ctx.users.load(conn, str(user_id))
        if not user.exists:
            raise NotFound(NO_SUCH_USER)
        events = command(user)
        await ctx.users.save(conn, user, events, metadata_of(caller))
        await users.project(conn, user)
        if user.disabled and events:
            # At once: refresh tokens and, through the revocation list, the access tokens of every session.
            await sessions.revoke_other_sessions(conn, user.user_id, None, ACCOUNT_DISABLED)

    await transact(ctx.pool, work)


async def disable(ctx: Identity, caller: Principal, user_id: UUID) -> None:
    """UserDisabled: every session of the user ends now and logging in is refused (403) until enabled."""
    await _change(ctx, caller, user_id, lambda user: user.disable(caller.user_id))


async def enable(ctx: Identity, caller: Principal, user_id: UUID) -> None:
    """UserEnabled: the owner may log in again."""
    await _change(ctx, caller, user_id, lambda user: user.enable(caller.user_id))


def _entries(events: list[RecordedUserEvent]) -> list[AuditEntry]:
    role = "customer"
    entries: list[AuditEntry] = []
    for event in events:
        payload, action, detail = event.payload, None, ""
        match event.event_type:
            case "UserRegistered":
                role = payload.get("role", role)
            case "RoleGranted":
                action, detail, role = "role_changed", f"role {role} -> {payload['role']}", payload["role"]
            case "UserDisabled":
                action, detail = "disabled", "account disabled; every session ended"
            case "UserEnabled":
                action, detail = "enabled", "account enabled"
            case "EmailChanged":
                action, detail = "email_changed", f"email {payload['old_email']} -> {payload['email']}"
            case "PasswordChanged" if event.by_reset_link:
                action, detail = "password_reset", "password reset with an emailed link; every session ended"
            case "PasswordChanged":
                action, detail = "password_changed", "password changed by the user; other sessions ended"
        if action is not None:
            entries.append(AuditEntry(event.occurred_at, action, event.actor_id, event.actor_name, detail))
    return entries


async def audit(ctx: Identity, user_id: UUID) -> list[AuditEntry]:
    """Role changes, disable/enable, email changes, password changes and resets, oldest first."""
    if await users.by_id(ctx.pool, user_id) is None:
        raise NotFound(NO_SUCH_USER)
    return _entries(await admin.user_events(ctx.pool, user_id))
