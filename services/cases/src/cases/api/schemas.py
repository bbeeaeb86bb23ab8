"""Request DTOs (unknown fields refused, every string bounded) and the response shapes of the cases API."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from cases.domain.severity import HIGHEST_LEVEL, LEVELS_TEXT, LOWEST_LEVEL
from cases.domain.views import (
    AttachmentView,
    CaseCounts,
    CasePage,
    CaseSummaryView,
    CaseView,
    CommentView,
    ProductView,
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


CaseRead = CaseView
CaseSummaryRead = CaseSummaryView
CaseList = CasePage
CommentRead = CommentView
AttachmentRead = AttachmentView
ProductRead = ProductView
SeverityRead = SeverityView
CaseCountsRead = CaseCounts

__all__ = [
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
    "SeverityRead",
]
