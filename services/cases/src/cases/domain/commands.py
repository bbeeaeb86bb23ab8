"""Commands of the case domain: what a caller asks for, already parsed and authenticated."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from casefold_events.contracts import AttachmentRef
from casefold_events.contracts.cases import Role, WaitingOn


@dataclass(frozen=True)
class Caller:
    """Who issues a command."""

    user_id: UUID
    role: Role
    email_verified: bool = True

    @property
    def is_agent(self) -> bool:
        return self.role in ("agent", "admin")


@dataclass(frozen=True)
class OpenCase:
    case_id: UUID
    product_id: str
    subject: str
    description: str
    severity: int
    attachments: tuple[str, ...] = ()


@dataclass(frozen=True)
class AddComment:
    case_id: UUID
    comment_id: UUID
    body: str
    internal: bool = False


@dataclass(frozen=True)
class AddAttachment:
    case_id: UUID
    reference: str


@dataclass(frozen=True)
class CloseCase:
    case_id: UUID


@dataclass(frozen=True)
class VerifiedAttachment:
    """An attachment reference whose receipt checked out: what the case records."""

    ref: AttachmentRef
    uploaded_by: UUID


@dataclass(frozen=True)
class AssignCase:
    """Take (own id), give (another agent's id) or unassign (None)."""

    case_id: UUID
    assignee_id: UUID | None


@dataclass(frozen=True)
class SetWaiting:
    case_id: UUID
    waiting_on: WaitingOn


@dataclass(frozen=True)
class ChangeSeverity:
    """prioritised None keeps the prioritisation; False lowers a prioritised case."""

    case_id: UUID
    severity: int
    reason: str
    prioritised: bool | None = None
