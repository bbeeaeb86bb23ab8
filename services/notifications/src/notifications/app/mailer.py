"""Composes the drafts of every email from events and projections (no I/O): templates, addresses, threading."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from casefold_events.envelope import new_event_id
from notifications.adapters.case_projection import Case
from notifications.adapters.directory import User
from notifications.adapters.inbound import Received
from notifications.adapters.templates import Renderer
from notifications.domain.emails import (
    Direction,
    Draft,
    Kind,
    case_label,
    case_subject,
    mailbox,
    message_id,
    thread_root,
)
from notifications.domain.replies import ReplyTokens, Side

# Why an email to a disabled account is kept and never sent (its last_error in the history).
DISABLED_RECIPIENT = "not sent: the recipient's account is disabled"


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class Mailer:
    """Everything composing an email needs: addresses, the Message-ID domain, the portal URL and the templates."""

    renderer: Renderer
    from_address: str
    support_address: str
    domain: str
    public_url: str
    replies: ReplyTokens | None = None  # None: no reply addresses (inbound mail off)

    def case_url(self, case_id: UUID) -> str:
        return f"{self.public_url.rstrip('/')}/cases/{case_id}"

    def to_customer(self, event_id: UUID, kind: Kind, case: Case, owner: User | None, **context: Any) -> Draft:
        """An email to the case owner; queued as waiting when the owner's address is not known yet, withheld (kept
        in the history, never sent) when their account is disabled."""
        to = mailbox(owner.email, owner.display_name) if owner else None
        greeting = owner.display_name if owner else "there"
        draft = self._case_draft(event_id, kind, "outbound", case, to, owner=case.owner_id, greeting_name=greeting,
                                 **context)  # fmt: skip
        return replace(draft, withheld=DISABLED_RECIPIENT) if owner is not None and owner.disabled else draft

    def to_support(self, event_id: UUID, kind: Kind, direction: Direction, case: Case, **context: Any) -> Draft:
        return self._case_draft(event_id, kind, direction, case, self.support_address, owner=None, **context)

    def to_agent(self, event_id: UUID, kind: Kind, case: Case, agent: User | None, **context: Any) -> Draft:
        """An internal email to this agent, or to the support address when there is none or they are no current
        agent (role revoked, account disabled): the team sees what the former assignee would have."""
        to, agent_id = self.support_address, None
        if agent is not None and agent.is_current_agent:
            to, agent_id = mailbox(agent.email, agent.display_name), agent.user_id
        draft = self._case_draft(event_id, kind, "internal", case, to, owner=None, **context)
        return replace(draft, agent_user_id=agent_id)

    def _case_draft(
        self,
        event_id: UUID,
        kind: Kind,
        direction: Direction,
        case: Case,
        to: str | None,
        *,
        owner: UUID | None,
        **context: Any,
    ) -> Draft:
        subject = case_subject(case.number, case.subject)
        root = thread_root(case.opened_event_id, self.domain)
        reply_to = None
        if self.replies is not None:
            side: Side = "c" if owner is not None else "a"
            reply_to = mailbox(self.replies.address(side, case.case_id, case.owner_id), "Casefold Support")
        own_id = message_id(event_id, kind, self.domain)
        text, html = self.renderer.render(
            kind, title=subject, subject=case.subject, case_number=case_label(case.number).removeprefix("Case "),
            case_url=self.case_url(case.case_id), replies_by_email=reply_to is not None, **context,
        )  # fmt: skip
        return Draft(
            id=new_event_id(), message_id=own_id, kind=kind, direction=direction, from_address=self.from_address,
            to_address=to, subject=subject, text=text, html=html, created_at=datetime.now(UTC), case_id=case.case_id,
            recipient_user_id=owner, in_reply_to=None if own_id == root else root, reply_to=reply_to,
        )  # fmt: skip

    def closed_reply(self, received: Received, case: Case) -> Draft:
        """The one automatic answer to a reply to a closed case (its Message-ID derives from the reply's id)."""
        subject = case_subject(case.number, case.subject)
        number = case_label(case.number).removeprefix("Case ")
        new_case_url = f"{self.public_url.rstrip('/')}/cases/new?refers_to={number}"
        text, html = self.renderer.render(
            "closed-reply", title=subject, subject=case.subject, case_number=number,
            case_url=self.case_url(case.case_id), new_case_url=new_case_url, greeting_name="there",
        )  # fmt: skip
        return Draft(
            id=new_event_id(), message_id=message_id(received.id, "closed-reply", self.domain), kind="closed-reply",
            direction="outbound", from_address=self.from_address, to_address=received.from_address,
            subject=f"Re: {subject}", text=text, html=html, created_at=datetime.now(UTC), case_id=case.case_id,
            in_reply_to=received.message_id, auto_submitted="auto-replied",
        )  # fmt: skip

    def account(
        self, event_id: UUID, kind: Kind, to: str, display_name: str, action_url: str | None, expires: str | None
    ) -> Draft:
        """An account email: no case, no thread; the link is the secret to mask once delivered."""
        subjects: dict[str, str] = {
            "confirm-email": "Confirm your email address",
            "confirm-email-change": "Confirm your new email address",
            "email-changed-notice": "The email address of your account was changed",
            "password-changed": "Your password was changed",
            "password-reset": "Reset your password",
            "password-reset-notice": "Your password was reset",
        }
        subject = f"Casefold: {subjects[kind]}"
        text, html = self.renderer.render(
            kind, title=subject, greeting_name=display_name or "there", action_url=action_url or "", expires=expires
        )
        return Draft(
            id=new_event_id(), message_id=message_id(event_id, kind, self.domain), kind=kind, direction="outbound",
            from_address=self.from_address, to_address=mailbox(to, display_name), subject=subject, text=text,
            html=html, created_at=datetime.now(UTC), secret=action_url or None,
        )  # fmt: skip
