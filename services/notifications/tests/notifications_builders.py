"""Builders of the events notifications consumes, and their envelopes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from casefold_events.contracts import (
    AttachmentAdded,
    AttachmentRef,
    CaseClosed,
    CaseOpened,
    CommentAdded,
    Event,
    SendAccountEmail,
    SlaBreached,
    SlaWarning,
    UserDisabled,
    UserEnabled,
    UserRegistered,
)
from casefold_events.envelope import Actor, Envelope, Metadata


def user_registered(user_id: uuid.UUID, email: str = "", name: str = "Ada Lovelace", **kw: Any) -> UserRegistered:
    return UserRegistered(user_id=user_id, email=email or f"{user_id.hex[:8]}@customer.test", display_name=name,
                          terms_version="2026-01", **kw)  # fmt: skip


def account_state(user_id: uuid.UUID, version: int, *, disabled: bool) -> Envelope:
    """UserDisabled / UserEnabled at this version of the user's stream, wrapped for identity.events.v1."""
    event = UserDisabled(user_id=user_id) if disabled else UserEnabled(user_id=user_id)
    return wrap(event, user_id, version, stream_type="user")


def case_opened(case_id: uuid.UUID, owner: uuid.UUID, number: int = 1042, **kw: Any) -> CaseOpened:
    fields: dict[str, Any] = {
        "product_id": "casefold-cloud", "product_name": "Casefold Cloud", "subject": "Login page is slow",
        "description": "It takes <b>30 s</b> & more.", "severity": 3, "prioritised": False,
    }  # fmt: skip
    fields.update(kw)
    return CaseOpened(case_id=case_id, number=number, opened_by=owner, opened_by_role="customer", **fields)


def comment(case_id: uuid.UUID, author: uuid.UUID, role: str = "agent", internal: bool = False,
            body: str = "Could you send the logs?") -> CommentAdded:  # fmt: skip
    return CommentAdded(case_id=case_id, comment_id=uuid.uuid4(), author_id=author, author_role=role,
                        body=body, internal=internal)  # fmt: skip


def attachment(case_id: uuid.UUID, by: uuid.UUID, role: str = "customer") -> AttachmentAdded:
    ref = AttachmentRef(attachment_id=uuid.uuid4(), filename="server.log", size=2048, content_type="text/plain",
                        sha256="a" * 64)  # fmt: skip
    return AttachmentAdded(case_id=case_id, attachment=ref, added_by=by, added_by_role=role)


def closed(case_id: uuid.UUID, by: uuid.UUID) -> CaseClosed:
    return CaseClosed(case_id=case_id, closed_by=by, closed_by_role="customer")


SECRET_URL = "https://portal.test/confirm?token=s3cr3t&x=1"


def account_email(
    user_id: uuid.UUID, to: str, url: str | None = SECRET_URL, template: str = "confirm-email"
) -> SendAccountEmail:
    return SendAccountEmail(user_id=user_id, template=template, to=to, display_name="Ada", action_url=url,
                            expires_at=datetime.now(UTC) + timedelta(days=1) if url else None)  # fmt: skip


def wrap(event: Event, stream_id: uuid.UUID, version: int = 1, stream_type: str = "case") -> Envelope:
    actor = Actor(user_id=None, role="system")
    return Envelope.wrap(event, stream_id=str(stream_id), stream_type=stream_type, stream_version=version,
                         metadata=Metadata(actor=actor))  # fmt: skip


def sla_signal(
    case_id: uuid.UUID, kind: str = "warning", clock: str = "first_response", assignee: uuid.UUID | None = None
) -> SlaWarning | SlaBreached:
    made = SlaWarning if kind == "warning" else SlaBreached
    due = datetime(2026, 12, 7, 10, tzinfo=UTC)
    return made(case_id=case_id, clock=clock, due_at=due, assignee_id=assignee)
