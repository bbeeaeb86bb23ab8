"""What the read side returns: a case with its comments and attachments, case summaries, a page of them.

Below the adapters on purpose: the read model builds these, the application layer renders them from the aggregate
for time travel and replies, and the API serves them as its response shapes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from casefold_events.contracts.cases import Role
from cases.domain.severity import LEVELS_TEXT

NUMBER_WIDTH = 8

StatusFilter = Literal["all", "open", "closed"]


def format_number(number: int) -> str:
    """The human case number: zero-padded to 8 digits (e.g. 00001042)."""
    return f"{number:0{NUMBER_WIDTH}d}"


class View(BaseModel):
    model_config = ConfigDict(frozen=True)


class ProductView(View):
    id: str
    name: str


class SeverityView(View):
    level: int = Field(description="1 is the most severe")
    name: str
    description: str


class CommentView(View):
    id: UUID
    author_id: UUID
    author_name: str | None = Field(description="the author's display name now; null while the directory lacks it")
    author_role: Role = Field(description="the author's role when they wrote the comment")
    body: str
    internal: bool = Field(description="only agents see internal comments")
    created_at: datetime


class AttachmentView(View):
    id: UUID
    filename: str
    size: int
    content_type: str
    sha256: str
    added_by: UUID
    added_at: datetime


class CaseSummaryView(View):
    id: UUID
    number: str = Field(description="zero-padded to 8 digits")
    product: ProductView
    subject: str
    severity: int = Field(description=f"{LEVELS_TEXT} (GET /api/cases/severities)")
    prioritised: bool
    status: Literal["open", "closed"]
    opened_by: UUID
    opened_by_name: str | None = Field(description="the customer's display name now; null while unknown")
    opened_at: datetime
    closed_at: datetime | None
    last_activity_at: datetime
    version: int


class CaseView(CaseSummaryView):
    opened_by_email: str | None = Field(description="agents and admins only (null for customers); null while unknown")
    description: str
    comments: list[CommentView]
    attachments: list[AttachmentView]


class CasePage(View):
    items: list[CaseSummaryView]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last page")


class CaseCounts(View):
    all: int = Field(description="every case the caller may see (with q: whose subject matches)")
    open: int
    closed: int
