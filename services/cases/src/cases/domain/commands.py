"""Commands of the case domain: what a caller asks for, already parsed and authenticated."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from casefold_events.contracts import AttachmentRef
from casefold_events.contracts.cases import Role


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
