"""Request DTOs (unknown fields refused, every string bounded) and the response shapes of the cases API."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from casefold_events.contracts.cases import WaitingOn
from cases.domain.model import MAX_REASON_LENGTH
from cases.domain.severity import HIGHEST_LEVEL, LEVELS_TEXT, LOWEST_LEVEL
from cases.domain.views import (
    AttachmentView,
    CaseCounts,
    CasePage,
    CaseSummaryView,
    CaseView,
    CommentView,
    PersonView,
    ProductView,
    QueueItemView,
    QueuePage,
    SeverityView,
)

MAX_ATTACHMENTS_AT_OPEN = 20
MAX_REFERENCE_LENGTH = 4096

Subject = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]
ProductId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Reference = Annotated[str, StringConstraints(min_length=1, max_length=MAX_REFERENCE_LENGTH)]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CaseCreate(Request):
    """Open a case."""

    product: ProductId = Field(description="a product id from GET /api/cases/products")
    subject: Subject = Field(description='"Production Down" anywhere (any letter case) prioritises the case')
    description: Text
    severity: int = Field(
        strict=True, ge=LOWEST_LEVEL, le=HIGHEST_LEVEL, description=f"{LEVELS_TEXT} (GET /api/cases/severities)"
    )
    attachments: list[Reference] = Field(
        default_factory=list,
        max_length=MAX_ATTACHMENTS_AT_OPEN,
        description="references (signed receipts) returned by POST /api/attachments, uploaded by the caller",
    )


class CommentCreate(Request):
    """Add a comment."""

    body: Text
    internal: bool = Field(default=False, strict=True, description="agents only: never shown to the customer")


class AttachmentCreate(Request):
    """Link an uploaded attachment."""

    reference: Reference = Field(description="the reference returned by POST /api/attachments")


class AssignmentUpdate(Request):
    """Take, give or unassign a case."""

    assignee_id: UUID | None = Field(
        description="a current agent's or admin's id (your own to take it); null unassigns"
    )


class WaitingUpdate(Request):
    """Say whose move the case waits for."""

    waiting_on: WaitingOn = Field(description="customer or support")


class SeverityUpdate(Request):
    """Change the severity, or lower a "Production Down" prioritisation, with a reason."""

    severity: int = Field(strict=True, ge=LOWEST_LEVEL, le=HIGHEST_LEVEL, description=LEVELS_TEXT)
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_REASON_LENGTH)] = (
        Field(description="why; recorded with the change and shown to agents")
    )
    prioritised: bool | None = Field(
        default=None, strict=True, description="false lowers a prioritised case; omitted keeps it as it is"
    )


CaseRead = CaseView
CaseSummaryRead = CaseSummaryView
CaseList = CasePage
CommentRead = CommentView
AttachmentRead = AttachmentView
ProductRead = ProductView
SeverityRead = SeverityView
CaseCountsRead = CaseCounts
AgentRead = PersonView
QueueItemRead = QueueItemView
QueueList = QueuePage

__all__ = [
    "AgentRead",
    "AssignmentUpdate",
    "AttachmentCreate",
    "AttachmentRead",
    "CaseCountsRead",
    "CaseCreate",
    "CaseList",
    "CaseRead",
    "CaseSummaryRead",
    "CommentCreate",
    "CommentRead",
    "ProductRead",
    "QueueItemRead",
    "QueueList",
    "SeverityRead",
    "SeverityUpdate",
    "WaitingUpdate",
]
