"""Thin: decode each event of cases, identity and the private mail channel, and call the app layer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from pydantic import ValidationError

from casefold_events.consumer import Handler
from casefold_events.contracts import Event
from casefold_events.envelope import Envelope
from notifications.app import handlers
from notifications.app.mailer import Mailer

Route = Callable[[asyncpg.Connection, Mailer, Any, Any], Awaitable[None]]

ROUTES: dict[str, Route] = {
    "CaseOpened": handlers.case_opened,
    "CommentAdded": handlers.comment_added,
    "AttachmentAdded": handlers.attachment_added,
    "CaseClosed": handlers.case_closed,
    "UserRegistered": handlers.user_registered,
    "EmailConfirmed": handlers.email_confirmed,
    "EmailChanged": handlers.email_changed,
    "ProfileUpdated": handlers.profile_updated,
    "RoleGranted": handlers.role_granted,
    "SendAccountEmail": handlers.send_account_email,
    "SlaWarning": handlers.sla_signal,
    "SlaBreached": handlers.sla_signal,
}


# An account's state follows the user stream's version (the backfill replays these beside running workers).
VersionedRoute = Callable[[asyncpg.Connection, Mailer, int, Any], Awaitable[None]]
ACCOUNT_STATE: dict[str, VersionedRoute] = {
    "UserDisabled": handlers.user_disabled,
    "UserEnabled": handlers.user_enabled,
}


class InvalidPayload(ValueError):
    """The payload does not validate; says where, never what (a mail command's payload carries a secret link)."""


def _event(envelope: Envelope) -> Event:
    try:
        return envelope.event()
    except ValidationError as exc:
        where = ", ".join(f"{'.'.join(map(str, e['loc']))}: {e['type']}" for e in exc.errors())
        raise InvalidPayload(f"{envelope.event_type} v{envelope.schema_version} is invalid ({where})") from None


def make_handler(mailer: Mailer) -> Handler:
    """The ConsumerRunner handler; event types notifications has no use for are acknowledged and skipped."""

    async def handle(conn: asyncpg.Connection, envelope: Envelope) -> None:
        route = ROUTES.get(envelope.event_type)
        if route is not None:
            await route(conn, mailer, envelope.event_id, _event(envelope))
        elif (state := ACCOUNT_STATE.get(envelope.event_type)) is not None:
            await state(conn, mailer, envelope.stream_version, _event(envelope))

    return handle
