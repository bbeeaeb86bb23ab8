"""The case as its aggregate knows it, in the same shape the read model serves (used for time travel and replies)."""

from __future__ import annotations

from uuid import UUID

from cases.app.views import AttachmentView, CaseView, CommentView, ProductView, Viewer, format_number
from cases.domain.model import Attachment, Case, Comment


def comment_view(comment: Comment) -> CommentView:
    return CommentView(
        id=comment.id,
        author_id=comment.author_id,
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


def case_view(case: Case, viewer: Viewer) -> CaseView:
    """The case page for this viewer: customers never see internal comments."""
    s = case.state
    assert s.opened_by is not None
    assert s.opened_at is not None
    assert s.last_activity_at is not None
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
        opened_at=s.opened_at,
        closed_at=s.closed_at,
        last_activity_at=s.last_activity_at,
        version=case.version,
        comments=[comment_view(c) for c in s.comments if viewer.is_agent or not c.internal],
        attachments=[attachment_view(a) for a in s.attachments],
    )
