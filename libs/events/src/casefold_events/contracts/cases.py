"""Events of the Case aggregate, published on `cases.events.v1` keyed by case id."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from casefold_events.contracts.base import Event, event

Role = Literal["customer", "agent", "admin"]


class AttachmentRef(BaseModel):
    """What a case records about an attachment whose bytes the attachments service holds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    attachment_id: UUID
    filename: str = Field(min_length=1, max_length=255)
    size: int = Field(ge=0)
    content_type: str = Field(max_length=255)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


@event
class CaseOpened(Event):
    """A customer opened a case; `number` is the human case number (shown zero-padded to 8 digits)."""

    event_type = "CaseOpened"
    schema_version = 1

    case_id: UUID
    number: int = Field(ge=1)
    product_id: str = Field(min_length=1, max_length=64)
    product_name: str = Field(min_length=1, max_length=200)
    subject: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=20_000)
    severity: int = Field(ge=1, le=3, description="1 critical, 2 major, 3 minor")
    prioritised: bool
    priority_rule: str | None = Field(default=None, description="the rule that prioritised the case, if any")
    opened_by: UUID
    opened_by_role: Role
    attachments: tuple[AttachmentRef, ...] = ()


@event
class CommentAdded(Event):
    """A comment on an open case; internal comments are for agents only and never shown to the customer."""

    event_type = "CommentAdded"
    schema_version = 1

    case_id: UUID
    comment_id: UUID
    author_id: UUID
    author_role: Role
    body: str = Field(min_length=1, max_length=20_000)
    internal: bool = False


@event
class AttachmentAdded(Event):
    """An uploaded attachment was linked to an open case."""

    event_type = "AttachmentAdded"
    schema_version = 1

    case_id: UUID
    attachment: AttachmentRef
    added_by: UUID
    added_by_role: Role


@event
class CaseClosed(Event):
    """The case is closed, for good: a recurring problem needs a new case."""

    event_type = "CaseClosed"
    schema_version = 1

    case_id: UUID
    closed_by: UUID
    closed_by_role: Role


WaitingOn = Literal["support", "customer"]


@event
class CaseAssigned(Event):
    """An agent or admin took, gave or unassigned an open case; `assignee_id` null means unassigned."""

    event_type = "CaseAssigned"
    schema_version = 1

    case_id: UUID
    assignee_id: UUID | None
    previous_assignee_id: UUID | None
    assigned_by: UUID
    assigned_by_role: Role


@event
class WaitingStateChanged(Event):
    """Whose move an open case waits for. An agent sets it; a customer's comment on a case waiting on the customer
    puts it back to support (then `changed_by` is that customer and `changed_by_role` is "customer")."""

    event_type = "WaitingStateChanged"
    schema_version = 1

    case_id: UUID
    waiting_on: WaitingOn
    changed_by: UUID
    changed_by_role: Role


@event
class SeverityChanged(Event):
    """An agent or admin changed an open case's severity or lowered its prioritisation, with a recorded reason."""

    event_type = "SeverityChanged"
    schema_version = 1

    case_id: UUID
    from_severity: int = Field(ge=1, le=3, description="1 critical, 2 major, 3 minor")
    to_severity: int = Field(ge=1, le=3, description="1 critical, 2 major, 3 minor")
    prioritised: bool = Field(description="whether the case is prioritised after the change")
    reason: str = Field(min_length=1, max_length=500)
    changed_by: UUID
    changed_by_role: Role


SlaClock = Literal["first_response", "resolution"]


class _SlaSignal(Event):
    """What SlaWarning and SlaBreached both carry (the SLA worker of the cases service appends them)."""

    case_id: UUID
    clock: SlaClock = Field(description="first_response: the first public agent reply; resolution: the close")
    due_at: datetime = Field(description="the clock's deadline")
    assignee_id: UUID | None = Field(description="the assigned agent when the signal was raised; null: unassigned")


@event
class SlaWarning(_SlaSignal):
    """A clock of an open case has used 80% of its target (once per clock and target)."""

    event_type = "SlaWarning"
    schema_version = 1


@event
class SlaBreached(_SlaSignal):
    """A clock of an open case passed its target (once per clock per case)."""

    event_type = "SlaBreached"
    schema_version = 1
