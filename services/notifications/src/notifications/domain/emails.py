"""What an email of Casefold is: its kinds and directions, its identity (Message-ID), thread and subject rules."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime, formataddr
from typing import Literal
from uuid import UUID

Kind = Literal[
    "ack",
    "alert",
    "agent-comment",
    "customer-comment",
    "attachment",
    "closed",
    "confirm-email",
    "confirm-email-change",
    "email-changed-notice",
    "password-changed",
    "password-reset",
    "password-reset-notice",
    "inbound-reply",
    "closed-reply",
    "sla-warning",
    "sla-breached",
]
# outbound: support -> customer; inbound: a copy of what the customer wrote, to support; internal: for support only.
Direction = Literal["outbound", "inbound", "internal"]
# withheld: never sent, its recipient's account is disabled (the reason is the row's last_error).
Status = Literal["waiting", "queued", "sent", "failed", "withheld"]

ALL_DIRECTIONS: tuple[Direction, ...] = ("outbound", "inbound", "internal")
CUSTOMER_VISIBLE: frozenset[Direction] = frozenset({"outbound", "inbound"})
# References keeps the thread's root and its latest messages (RFC 5322 3.6.4: drop from the middle when trimming).
MAX_REFERENCES = 10

# What an entry of the activity history is, in words, for the customer and for agents.
_LABELS: dict[str, tuple[str, str]] = {
    "ack": ("Acknowledgement", "Acknowledgement"),
    "alert": ("Alert to the support team", "Alert to the support team"),
    "agent-comment": ("Reply from support", "Reply from support"),
    "customer-comment": ("Your comment", "Comment from the customer"),
    "attachment": ("Attachment notice", "Attachment notice"),
    "closed": ("Closing confirmation", "Closing confirmation"),
    "inbound-reply": ("Your reply by email", "Reply by email"),
    "closed-reply": ("Automatic answer: the case is closed", "Automatic answer: the case is closed"),
    # SLA mails are internal: customers never see them, so their customer-side label is never shown.
    "sla-warning": ("Email", "SLA warning"),
    "sla-breached": ("Email", "SLA breached"),
}
_WHITESPACE = re.compile(r"\s+")


# The names of the severity levels, as the portal and the cases service call them (PORTAL.md: 1 critical ... 3 minor).
SEVERITY_NAMES: dict[int, str] = {1: "Critical", 2: "Major", 3: "Minor"}


def severity_label(level: int) -> str:
    """ "2 (Major)": the level with its name; a level without a name here stays a bare number."""
    name = SEVERITY_NAMES.get(level)
    return f"{level} ({name})" if name else str(level)


def message_id(event_id: UUID, kind: Kind, domain: str) -> str:
    """Derived from the event, so a redelivered event yields the same Message-ID (and the outbox refuses a twin)."""
    return f"<{event_id}.{kind}@{domain}>"


def thread_root(case_opened_event_id: UUID, domain: str) -> str:
    """Every email of a case replies to the case's acknowledgement."""
    return message_id(case_opened_event_id, "ack", domain)


def case_label(number: int) -> str:
    return f"Case {number:08d}"


def case_subject(number: int, subject: str) -> str:
    """ "[Case 00001042] <subject>", on one line whatever the customer typed (no header injection)."""
    return f"[{case_label(number)}] {_WHITESPACE.sub(' ', subject).strip()}"


def mailbox(address: str, display_name: str | None = None) -> str:
    clean = _WHITESPACE.sub(" ", display_name).strip() if display_name else ""
    return formataddr((clean, address)) if clean else address


def describe(kind: str, *, for_agent: bool) -> str:
    """The words the activity history shows for an email of this kind."""
    customer, agent = _LABELS.get(kind, ("Email", "Email"))
    return agent if for_agent else customer


def thread_references(root: str, earlier: list[str]) -> tuple[str, ...]:
    """The References chain of a new email of a thread: the root, then the latest earlier messages, oldest first."""
    chain = [root, *(m for m in earlier if m != root)]
    return tuple(chain if len(chain) <= MAX_REFERENCES else [root, *chain[-(MAX_REFERENCES - 1) :]])


def retry_delay(attempts: int, initial: float, cap: float, jitter: Callable[[], float] = random.random) -> float:
    """Exponential backoff after the attempts-th failure, capped, with "equal jitter": between half the step and
    the whole of it, so the emails of one outage do not all come back in the same second."""
    step = float(min(initial * 2 ** max(attempts - 1, 0), cap))
    return step / 2 + jitter() * step / 2


def is_permanent(smtp_code: int) -> bool:
    """5xx is the server's final word on this message; anything else may pass later."""
    return 500 <= smtp_code < 600


@dataclass(frozen=True)
class Draft:
    """One rendered email, ready for the outbox. to_address None = its recipient is not known yet (waiting);
    withheld = why it is kept in the history and never sent; agent_user_id = the agent an internal email is addressed
    to (if they stop being a current agent before it is sent, it goes to the support address instead)."""

    id: UUID
    message_id: str
    kind: Kind
    direction: Direction
    from_address: str
    to_address: str | None
    subject: str
    text: str
    html: str
    created_at: datetime
    case_id: UUID | None = None
    recipient_user_id: UUID | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()  # the thread so far, root first; the last one is what this replies to
    reply_to: str | None = None  # the case's reply address for this recipient (support+<token>@...)
    auto_submitted: str = "auto-generated"  # RFC 3834: "auto-replied" for an automatic answer to a message
    secret: str | None = field(default=None, repr=False)
    traceparent: str | None = None
    withheld: str | None = None
    agent_user_id: UUID | None = None

    @property
    def status(self) -> Status:
        if self.withheld:
            return "withheld"
        return "queued" if self.to_address else "waiting"

    def headers(self) -> dict[str, str]:
        """The headers the email is sent with (To is filled in when a waiting recipient becomes known)."""
        headers = {
            "From": self.from_address,
            "To": self.to_address or "",
            "Subject": self.subject,
            "Date": format_datetime(self.created_at),
            "Message-ID": self.message_id,
            "Auto-Submitted": self.auto_submitted,
        }
        if self.reply_to:
            headers["Reply-To"] = self.reply_to
        if self.references:
            headers["In-Reply-To"] = self.references[-1]
            headers["References"] = " ".join(self.references)
        elif self.in_reply_to:
            headers["In-Reply-To"] = self.in_reply_to
            headers["References"] = self.in_reply_to
        if self.case_id:
            headers["X-Casefold-Case"] = str(self.case_id)
        return headers
