"""The Case aggregate: its state is a fold of its events; its command methods check the rules and return events.

No I/O here. Timestamps come from the events being replayed (`self.event_time`, the occurred_at the store stamped),
so the aggregate can render a case as of any version or time without a read model.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, ClassVar, Literal, Self
from uuid import UUID

from casefold_events.contracts import (
    AttachmentAdded,
    AttachmentRef,
    CaseAssigned,
    CaseClosed,
    CaseOpened,
    CommentAdded,
    Event,
    SeverityChanged,
    SlaBreached,
    SlaWarning,
    WaitingStateChanged,
)
from casefold_events.contracts.cases import Role, WaitingOn
from casefold_events.store import Aggregate
from cases.domain.commands import (
    AddComment,
    AssignCase,
    Caller,
    ChangeSeverity,
    OpenCase,
    SetWaiting,
    VerifiedAttachment,
)
from cases.domain.errors import AttachmentAlreadyOnCase, CaseIsClosed, CaseIsFull, CaseNotFound, NotAllowed, invalid
from cases.domain.severity import HIGHEST_LEVEL, LEVELS_TEXT, LOWEST_LEVEL

STREAM_TYPE = "case"
PRIORITY_RULE = "subject-contains-production-down"
_PRODUCTION_DOWN = re.compile(r"production\s+down", re.IGNORECASE)
MAX_ATTACHMENTS_PER_CASE = 100
MAX_REASON_LENGTH = 500
DEFAULT_MAX_COMMENTS_PER_CASE = 1000

Status = Literal["open", "closed"]


def priority_rule_for(subject: str) -> str | None:
    """The rule that prioritises a case with this subject, or None ("Production Down", any case and spacing)."""
    return PRIORITY_RULE if _PRODUCTION_DOWN.search(subject) else None


@dataclass(frozen=True)
class Comment:
    id: UUID
    author_id: UUID
    author_role: Role
    body: str
    internal: bool
    created_at: datetime


@dataclass(frozen=True)
class Attachment:
    ref: AttachmentRef
    added_by: UUID
    added_by_role: Role
    added_at: datetime


@dataclass(frozen=True)
class SeverityChange:
    from_severity: int
    to_severity: int
    prioritised: bool
    reason: str
    changed_by: UUID
    changed_at: datetime


@dataclass
class CaseState:
    number: int = 0
    product_id: str = ""
    product_name: str = ""
    subject: str = ""
    description: str = ""
    severity: int = 0
    prioritised: bool = False
    priority_rule: str | None = None
    status: Status = "open"
    opened_by: UUID | None = None
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    last_activity_at: datetime | None = None
    comments: list[Comment] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    waiting_on: WaitingOn | None = None
    assignee_id: UUID | None = None
    severity_changes: list[SeverityChange] = field(default_factory=list)


@dataclass(frozen=True)
class OpenPermit:
    """What check_may_open found: this caller may open this case against this product, with these attachments."""

    caller: Caller
    product_name: str
    attachments: tuple[VerifiedAttachment, ...] = ()

    def with_attachments(self, attachments: Sequence[VerifiedAttachment]) -> OpenPermit:
        """The permit with the command's verified attachments, if each is the caller's own upload, listed once."""
        seen: set[UUID] = set()
        for i, attachment in enumerate(attachments):
            _check_uploader(attachment, self.caller, f"attachments.{i}")
            if attachment.ref.attachment_id in seen:
                raise invalid(f"attachments.{i}", "The same attachment is listed twice.")
            seen.add(attachment.ref.attachment_id)
        return replace(self, attachments=tuple(attachments))


def ensure_storable(field_name: str, text: str) -> None:
    """Refuse text PostgreSQL cannot store (U+0000 in a text column), naming the field, before any write."""
    if "\x00" in text:
        raise invalid(field_name, f"The {field_name} contains a NUL character (U+0000), which cannot be stored.")


def check_may_open(command: OpenCase, caller: Caller, catalogue: Mapping[str, str]) -> OpenPermit:
    """The permit if this caller may open this case; the reason why not otherwise. Needs no I/O, so it runs before
    any (a refused open consumes no case number)."""
    if caller.is_agent:
        raise NotAllowed("Cases are opened by customers; agents cannot open a case on someone's behalf.")
    if not caller.email_verified:
        raise NotAllowed("Confirm your email address before opening a case (see the confirmation email we sent).")
    product_name = catalogue.get(command.product_id)
    if product_name is None:
        valid = ", ".join(sorted(catalogue))
        raise invalid("product", f"Unknown product {command.product_id!r}; valid products: {valid}.")
    ensure_storable("subject", command.subject)
    ensure_storable("description", command.description)
    return OpenPermit(caller, product_name)


def open_case(command: OpenCase, permit: OpenPermit, *, number: int) -> CaseOpened:
    """The CaseOpened event for a new case, under the permit check_may_open gave for this command."""
    if len(permit.attachments) != len(command.attachments):
        raise ValueError("the permit does not cover the command's attachments (OpenPermit.with_attachments)")
    caller = permit.caller
    rule = priority_rule_for(command.subject)
    return CaseOpened(
        case_id=command.case_id,
        number=number,
        product_id=command.product_id,
        product_name=permit.product_name,
        subject=command.subject,
        description=command.description,
        severity=command.severity,
        prioritised=rule is not None,
        priority_rule=rule,
        opened_by=caller.user_id,
        opened_by_role=caller.role,
        attachments=tuple(a.ref for a in permit.attachments),
    )


def _check_uploader(attachment: VerifiedAttachment, caller: Caller, field_name: str) -> None:
    # Agents too may only link their own uploads: a receipt is proof of who uploaded, not a bearer token.
    if attachment.uploaded_by != caller.user_id:
        raise invalid(field_name, "This attachment was uploaded by someone else.")


class Case(Aggregate):
    """A support case."""

    stream_type: ClassVar[str] = STREAM_TYPE
    # 2: waiting_on, assignee_id, severity_changes
    snapshot_version: ClassVar[int] = 2

    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.state = CaseState()

    @property
    def exists(self) -> bool:
        return self.version > 0

    @property
    def is_closed(self) -> bool:
        return self.state.status == "closed"

    # ----- rules -------------------------------------------------------------------------------------------------

    def ensure_visible_to(self, caller: Caller) -> None:
        """Customers see their own cases only; anything else is 'not found', never 'forbidden'."""
        if not self.exists or (not caller.is_agent and self.state.opened_by != caller.user_id):
            raise CaseNotFound

    def _ensure_open(self) -> None:
        if self.is_closed:
            raise CaseIsClosed(self.state.number)

    def add_comment(
        self, command: AddComment, caller: Caller, *, max_comments: int = DEFAULT_MAX_COMMENTS_PER_CASE
    ) -> list[Event]:
        self.ensure_visible_to(caller)
        self._ensure_open()
        if command.internal and not caller.is_agent:
            raise NotAllowed("Only support agents may add internal comments.")
        ensure_storable("body", command.body)
        if len(self.state.comments) >= max_comments:
            raise CaseIsFull(self.state.number, max_comments)
        events: list[Event] = [
            CommentAdded(
                case_id=UUID(self.id),
                comment_id=command.comment_id,
                author_id=caller.user_id,
                author_role=caller.role,
                body=command.body,
                internal=command.internal,
            )
        ]
        # The customer's answer is the move the case waited for, whichever way it came (portal or inbound mail).
        if not caller.is_agent and self.state.waiting_on == "customer":
            events.append(self._waiting(caller, "support"))
        return events

    def add_attachment(self, attachment: VerifiedAttachment, caller: Caller) -> list[Event]:
        self.ensure_visible_to(caller)
        self._ensure_open()
        _check_uploader(attachment, caller, "reference")
        if any(a.ref.attachment_id == attachment.ref.attachment_id for a in self.state.attachments):
            raise AttachmentAlreadyOnCase
        if len(self.state.attachments) >= MAX_ATTACHMENTS_PER_CASE:
            raise invalid("reference", f"A case holds at most {MAX_ATTACHMENTS_PER_CASE} attachments.")
        return [
            AttachmentAdded(
                case_id=UUID(self.id), attachment=attachment.ref, added_by=caller.user_id, added_by_role=caller.role
            )
        ]

    def _ensure_agent_may_change(self, caller: Caller, what: str) -> None:
        """Agents' commands: a stranger's case is 404, the customer's own 403, a closed one 409."""
        self.ensure_visible_to(caller)
        if not caller.is_agent:
            raise NotAllowed(f"Only support agents may {what}.")
        self._ensure_open()

    def assign(self, command: AssignCase, caller: Caller, *, assignee_is_agent: bool) -> list[Event]:
        """Take, give or unassign; the assignee must be a current agent or admin (the directory says whether)."""
        self._ensure_agent_may_change(caller, "assign cases")
        if command.assignee_id is not None and not assignee_is_agent:
            raise invalid("assignee_id", "The assignee must be a current support agent or admin.")
        if command.assignee_id == self.state.assignee_id:
            return []
        return [
            CaseAssigned(
                case_id=UUID(self.id),
                assignee_id=command.assignee_id,
                previous_assignee_id=self.state.assignee_id,
                assigned_by=caller.user_id,
                assigned_by_role=caller.role,
            )
        ]

    def set_waiting(self, command: SetWaiting, caller: Caller) -> list[Event]:
        """Mark whose move the case waits for; the same state again changes nothing."""
        self._ensure_agent_may_change(caller, "change the waiting state")
        if command.waiting_on == self.state.waiting_on:
            return []
        return [self._waiting(caller, command.waiting_on)]

    def _waiting(self, caller: Caller, waiting_on: WaitingOn) -> WaitingStateChanged:
        return WaitingStateChanged(
            case_id=UUID(self.id), waiting_on=waiting_on, changed_by=caller.user_id, changed_by_role=caller.role
        )

    def change_severity(self, command: ChangeSeverity, caller: Caller) -> list[Event]:
        """A new severity, or a lowered prioritisation, with its reason. Only the subject rule prioritises."""
        self._ensure_agent_may_change(caller, "change the severity")
        reason = command.reason.strip()
        if not reason:
            raise invalid("reason", "Give the reason for the change.")
        if len(reason) > MAX_REASON_LENGTH:
            raise invalid("reason", f"The reason is at most {MAX_REASON_LENGTH} characters.")
        ensure_storable("reason", reason)
        if not LOWEST_LEVEL <= command.severity <= HIGHEST_LEVEL:
            raise invalid("severity", f"The severity is one of {LEVELS_TEXT}.")
        s = self.state
        prioritised = s.prioritised if command.prioritised is None else command.prioritised
        if prioritised and not s.prioritised:
            raise invalid("prioritised", 'Only a "Production Down" subject prioritises a case; agents may lower it.')
        if command.severity == s.severity and prioritised == s.prioritised:
            raise invalid("severity", f"The case already has severity {s.severity}; nothing would change.")
        return [
            SeverityChanged(
                case_id=UUID(self.id),
                from_severity=s.severity,
                to_severity=command.severity,
                prioritised=prioritised,
                reason=reason,
                changed_by=caller.user_id,
                changed_by_role=caller.role,
            )
        ]

    def close(self, caller: Caller) -> list[Event]:
        self.ensure_visible_to(caller)
        self._ensure_open()
        return [CaseClosed(case_id=UUID(self.id), closed_by=caller.user_id, closed_by_role=caller.role)]

    # ----- folding -----------------------------------------------------------------------------------------------

    def apply(self, event: Event) -> None:
        at = self.event_time
        assert at is not None, "events are applied through replay, which knows when they occurred"
        s = self.state
        if isinstance(event, CaseOpened):
            s.number, s.product_id, s.product_name = event.number, event.product_id, event.product_name
            s.subject, s.description, s.severity = event.subject, event.description, event.severity
            s.prioritised, s.priority_rule = event.prioritised, event.priority_rule
            s.opened_by, s.opened_at, s.status = event.opened_by, at, "open"
            s.waiting_on = "support"
            s.attachments = [Attachment(ref, event.opened_by, event.opened_by_role, at) for ref in event.attachments]
        elif isinstance(event, CommentAdded):
            s.comments.append(
                Comment(event.comment_id, event.author_id, event.author_role, event.body, event.internal, at)
            )
        elif isinstance(event, AttachmentAdded):
            s.attachments.append(Attachment(event.attachment, event.added_by, event.added_by_role, at))
        elif isinstance(event, CaseClosed):
            s.status, s.closed_at, s.waiting_on = "closed", at, None
        elif isinstance(event, SlaWarning | SlaBreached):
            return  # the SLA worker's signals: not activity (the SLA fold reads them, see domain/sla.py)
        elif isinstance(event, CaseAssigned):
            # Not activity: customers never see who is assigned, so their lists must not move for it.
            s.assignee_id = event.assignee_id
            return
        elif isinstance(event, WaitingStateChanged):
            s.waiting_on = event.waiting_on
        elif isinstance(event, SeverityChanged):
            s.severity, s.prioritised = event.to_severity, event.prioritised
            change = SeverityChange(
                event.from_severity, event.to_severity, event.prioritised, event.reason, event.changed_by, at
            )
            s.severity_changes.append(change)
        else:  # pragma: no cover - an event type this code does not know must not be folded silently
            raise TypeError(f"Case cannot apply {event.event_type}")
        s.last_activity_at = at

    # ----- snapshots ---------------------------------------------------------------------------------------------

    def to_snapshot(self) -> dict[str, Any]:
        s = self.state
        return {
            "number": s.number,
            "product_id": s.product_id,
            "product_name": s.product_name,
            "subject": s.subject,
            "description": s.description,
            "severity": s.severity,
            "prioritised": s.prioritised,
            "priority_rule": s.priority_rule,
            "status": s.status,
            "opened_by": str(s.opened_by),
            "opened_at": _iso(s.opened_at),
            "closed_at": _iso(s.closed_at),
            "last_activity_at": _iso(s.last_activity_at),
            "comments": [
                {
                    "id": str(c.id),
                    "author_id": str(c.author_id),
                    "author_role": c.author_role,
                    "body": c.body,
                    "internal": c.internal,
                    "created_at": c.created_at.isoformat(),
                }
                for c in s.comments
            ],
            "attachments": [
                {
                    "ref": a.ref.model_dump(mode="json"),
                    "added_by": str(a.added_by),
                    "added_by_role": a.added_by_role,
                    "added_at": a.added_at.isoformat(),
                }
                for a in s.attachments
            ],
            "waiting_on": s.waiting_on,
            "assignee_id": str(s.assignee_id) if s.assignee_id else None,
            "severity_changes": [
                {
                    "from_severity": c.from_severity,
                    "to_severity": c.to_severity,
                    "prioritised": c.prioritised,
                    "reason": c.reason,
                    "changed_by": str(c.changed_by),
                    "changed_at": c.changed_at.isoformat(),
                }
                for c in s.severity_changes
            ],
        }

    @classmethod
    def from_snapshot(cls, stream_id: str, state: dict[str, Any]) -> Self:
        case = cls(stream_id)
        case.state = CaseState(
            number=state["number"],
            product_id=state["product_id"],
            product_name=state["product_name"],
            subject=state["subject"],
            description=state["description"],
            severity=state["severity"],
            prioritised=state["prioritised"],
            priority_rule=state["priority_rule"],
            status=state["status"],
            opened_by=UUID(state["opened_by"]),
            opened_at=_dt(state["opened_at"]),
            closed_at=_dt(state["closed_at"]),
            last_activity_at=_dt(state["last_activity_at"]),
            comments=[
                Comment(
                    UUID(c["id"]),
                    UUID(c["author_id"]),
                    c["author_role"],
                    c["body"],
                    c["internal"],
                    datetime.fromisoformat(c["created_at"]),
                )
                for c in state["comments"]
            ],
            attachments=[
                Attachment(
                    AttachmentRef.model_validate(a["ref"]),
                    UUID(a["added_by"]),
                    a["added_by_role"],
                    datetime.fromisoformat(a["added_at"]),
                )
                for a in state["attachments"]
            ],
            waiting_on=state["waiting_on"],
            assignee_id=UUID(state["assignee_id"]) if state["assignee_id"] else None,
            severity_changes=[
                SeverityChange(
                    c["from_severity"],
                    c["to_severity"],
                    c["prioritised"],
                    c["reason"],
                    UUID(c["changed_by"]),
                    datetime.fromisoformat(c["changed_at"]),
                )
                for c in state["severity_changes"]
            ],
        )
        return case


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
