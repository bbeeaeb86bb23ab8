"""What the read side returns: a case with its comments and attachments, case summaries, a page of them.

Below the adapters on purpose: the read model builds these, the application layer renders them from the aggregate
for time travel and replies, and the API serves them as its response shapes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from casefold_events.contracts.cases import Role, WaitingOn
from cases.domain.severity import LEVELS_TEXT

NUMBER_WIDTH = 8

StatusFilter = Literal["all", "open", "closed"]
QueueStatus = Literal["waiting_on_support", "waiting_on_customer", "closed", "open", "all"]
QueueSort = Literal["urgency", "last_activity"]
SlaFilter = Literal["breached", "due_soon"]


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


class PersonView(View):
    id: UUID
    display_name: str | None = Field(description="null while the directory lacks it")


class CustomerView(PersonView):
    email: str | None = Field(description="null while the directory lacks it")


class SeverityChangeView(View):
    from_severity: int
    to_severity: int
    prioritised: bool = Field(description="whether the case was prioritised after the change")
    reason: str
    changed_by_name: str | None
    changed_at: datetime


class SlaView(View):
    first_response_due_at: datetime | None
    first_responded_at: datetime | None
    first_response_breached: bool
    resolution_due_at: datetime | None = Field(description="null while paused (waiting on the customer)")
    resolution_paused: bool
    resolution_remaining_seconds: int | None = Field(description="frozen at what was left while paused")
    resolution_breached: bool


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
    waiting_on: WaitingOn | None = Field(description="whose move the case waits for; null when closed")


class CaseView(CaseSummaryView):
    opened_by_email: str | None = Field(description="agents and admins only (null for customers); null while unknown")
    description: str
    comments: list[CommentView]
    attachments: list[AttachmentView]
    assignee: PersonView | None = Field(
        description="agents and admins only (null for customers); null when unassigned or the assignee is no agent now"
    )
    customer: CustomerView | None = Field(description="agents and admins only (null for customers)")
    severity_changes: list[SeverityChangeView] = Field(description="agents and admins only (empty for customers)")
    sla: SlaView | None = Field(description="agents and admins only; null for customers, closed cases, or unknown")


class QueueItemView(CaseSummaryView):
    assignee: PersonView | None = Field(description="null when unassigned or the assignee is no agent now")
    customer: CustomerView
    next_deadline_at: datetime | None = Field(description="the earliest running SLA deadline; null when none")
    breached: bool = Field(description="the earliest running deadline has passed")


class QueuePage(View):
    items: list[QueueItemView]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last page")


class CasePage(View):
    items: list[CaseSummaryView]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last page")


# An agent's counts stop here (CASES_COUNT_CAP): counting every case a common word matches reads each of them (tens
# of thousands at 1,000,000 cases), and "more than 1,000" is all a tab needs to say. Each match counted is a read
# of the table: at 1M cases a common word's count took 8.6 ms at 1,000 and 17.6 ms at 10,000 (docs/performance.md).
COUNT_CAP = 1_000
_CAPPED = (
    "true: a lower bound, there may be more: an agent's counting stopped at the cap (CASES_COUNT_CAP, "
    f'{COUNT_CAP:,} by default; the portal shows e.g. "{COUNT_CAP:,}+"). Without q each status is counted up to '
    "the cap; with q the matches are, and past it open and closed are those among the first cap matches. "
    "false: exact (a customer's counts always are)"
)


class CaseCounts(View):
    # the flags are always sent: required in the served schema, defaulted only for the code that builds exact counts
    model_config = ConfigDict(frozen=True, json_schema_serialization_defaults_required=True)

    all: int = Field(
        description="every case the caller may see (with q: whose subject matches); always open + closed, so a "
        "lower bound when either is"
    )
    open: int
    closed: int
    all_capped: bool = Field(default=False, description=_CAPPED)
    open_capped: bool = Field(default=False, description=_CAPPED)
    closed_capped: bool = Field(default=False, description=_CAPPED)


def _until(due: datetime | None, now: datetime) -> int | None:
    return int((due - now).total_seconds()) if due is not None else None


def sla_view(
    *,
    first_response_due_at: datetime | None,
    first_responded_at: datetime | None,
    resolution_due_at: datetime | None,
    resolution_remaining_seconds: int | None,
    resolution_paused: bool,
    now: datetime,
) -> SlaView | None:
    """The SLA clocks as of now; None while no clock has been set (the SLA projection fills them)."""
    if first_response_due_at is None and resolution_due_at is None and resolution_remaining_seconds is None:
        return None
    first_breached = first_response_due_at is not None and (first_responded_at or now) > first_response_due_at
    if resolution_paused:
        resolution_breached = resolution_remaining_seconds is not None and resolution_remaining_seconds < 0
    else:
        resolution_breached = resolution_due_at is not None and now > resolution_due_at
    return SlaView(
        first_response_due_at=first_response_due_at,
        first_responded_at=first_responded_at,
        first_response_breached=first_breached,
        resolution_due_at=None if resolution_paused else resolution_due_at,
        resolution_paused=resolution_paused,
        resolution_remaining_seconds=resolution_remaining_seconds
        if resolution_paused
        else _until(resolution_due_at, now),
        resolution_breached=resolution_breached,
    )
