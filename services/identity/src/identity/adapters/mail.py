"""Account emails as private commands on the mail topic, queued in the same transaction as the user's events."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from casefold_events.contracts import SendAccountEmail
from casefold_events.contracts.mail import AccountTemplate
from casefold_events.envelope import Envelope, Metadata
from casefold_events.store import enqueue

Template = AccountTemplate
STREAM_TYPE = "identity-mail"


async def send_account_email(
    conn: asyncpg.Connection,
    topic: str,
    *,
    user_id: UUID,
    template: Template,
    to: str,
    display_name: str,
    metadata: Metadata,
    action_url: str | None = None,
    expires_at: datetime | None = None,
) -> None:
    """Queue one SendAccountEmail on the private topic (published if and when the transaction commits)."""
    command = SendAccountEmail(
        user_id=user_id, template=template, to=to, display_name=display_name, action_url=action_url,
        expires_at=expires_at,
    )  # fmt: skip
    envelope = Envelope.wrap(
        command, stream_id=str(user_id), stream_type=STREAM_TYPE, stream_version=1, metadata=metadata
    )
    await enqueue(conn, topic, [envelope])
