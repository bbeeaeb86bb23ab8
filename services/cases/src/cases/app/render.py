"""The case as its aggregate knows it, in the same shape the read model serves (used for time travel and replies)."""

from __future__ import annotations

from collections.abc import Mapping
from uuid import UUID

from cases.adapters.directory import Person
from cases.domain.commands import Caller
from cases.domain.model import Attachment, Case, Comment
from cases.domain.views import (
    AttachmentView,
    CaseView,
    CommentView,
    CustomerView,
    PersonView,
    ProductView,
    SeverityChangeView,
    SlaView,
    format_number,
)


def _name(people: Mapping[UUID, Person], user_id: UUID) -> str | None:
    person = people.get(user_id)
    return person.display_name if person else None


def people_of(case: Case) -> set[UUID]:
    """Whose names the case page shows: the owner, the comments' authors, the assignee, who changed the severity."""
    s = case.state
    ids = {c.author_id for c in s.comments} | {c.changed_by for c in s.severity_changes}
    return ids | {u for u in (s.opened_by, s.assignee_id) if u is not None}


def assignee_view(people: Mapping[UUID, Person], assignee_id: UUID | None) -> PersonView | None:
    """The assignee, unless their agent role was revoked or their account disabled since (then the case counts as
    unassigned)."""
    person = people.get(assignee_id) if assignee_id is not None else None
    if person is None or not person.is_current_agent:
        return None
    return PersonView(id=person.user_id, display_name=person.display_name)


def customer_view(people: Mapping[UUID, Person], user_id: UUID) -> CustomerView:
    person = people.get(user_id)
    return CustomerView(
        id=user_id, display_name=person.display_name if person else None, email=person.email if person else None
    )


def comment_view(comment: Comment, people: Mapping[UUID, Person]) -> CommentView:
    return CommentView(
        id=comment.id,
        author_id=comment.author_id,
        author_name=_name(people, comment.author_id),
        author_role=comment.author_role,
        body=comment.body,
        internal=comment.internal,
        created_at=comment.created_at,
    )


def attachment_view(attachment: Attachment) -> AttachmentView:
    ref = attachment.ref
    return AttachmentView(
        id=ref.attachment_id,
        filename=ref.filename,
        size=ref.size,
        content_type=ref.content_type,
        sha256=ref.sha256,
        added_by=attachment.added_by,
        added_at=attachment.added_at,
    )


def case_view(case: Case, viewer: Caller, people: Mapping[UUID, Person], sla: SlaView | None = None) -> CaseView:
    """The case page for this viewer, names from the directory: customers never see internal comments, emails,
    the assignee, the severity history or the SLA clocks."""
    s = case.state
    assert s.opened_by is not None
    assert s.opened_at is not None
    assert s.last_activity_at is not None
    owner = people.get(s.opened_by)
    return CaseView(
        id=UUID(case.id),
        number=format_number(s.number),
        product=ProductView(id=s.product_id, name=s.product_name),
        subject=s.subject,
        description=s.description,
        severity=s.severity,
        prioritised=s.prioritised,
        status=s.status,
        opened_by=s.opened_by,
        opened_by_name=_name(people, s.opened_by),
        opened_by_email=owner.email if owner and viewer.is_agent else None,
        opened_at=s.opened_at,
        closed_at=s.closed_at,
        last_activity_at=s.last_activity_at,
        version=case.version,
        comments=[comment_view(c, people) for c in s.comments if viewer.is_agent or not c.internal],
        attachments=[attachment_view(a) for a in s.attachments],
        waiting_on=s.waiting_on,
        assignee=assignee_view(people, s.assignee_id) if viewer.is_agent else None,
        customer=customer_view(people, s.opened_by) if viewer.is_agent else None,
        severity_changes=[
            SeverityChangeView(
                from_severity=c.from_severity,
                to_severity=c.to_severity,
                prioritised=c.prioritised,
                reason=c.reason,
                changed_by_name=_name(people, c.changed_by),
                changed_at=c.changed_at,
            )
            for c in s.severity_changes
        ]
        if viewer.is_agent
        else [],
        sla=sla if viewer.is_agent and s.status == "open" else None,
    )
