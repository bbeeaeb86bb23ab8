"""The activity history: /api/notifications/cases/{case_id}/activity and /api/notifications/messages/{id}."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from casefold_platform.auth import CurrentPrincipal
from casefold_platform.openapi import problems
from notifications.api.deps import Connection
from notifications.api.schemas import ActivityEntry, MessageRead
from notifications.app import queries

router = APIRouter(prefix="/api/notifications", tags=["activity"])


@router.get(
    "/cases/{case_id}/activity",
    response_model=list[ActivityEntry],
    response_model_by_alias=True,
    responses=problems({404: "no such case, or one the caller may not see (the same answer)"}),
)
async def case_activity(case_id: UUID, principal: CurrentPrincipal, conn: Connection) -> list[ActivityEntry]:
    """Every email about a case, in the order it was written, with its delivery status."""
    rows = await queries.case_activity(conn, principal, case_id)
    return [
        ActivityEntry(
            id=r["id"],
            kind=r["kind"],
            label=r["label"],
            direction=r["direction"],
            from_=r["from_address"],
            to=r["to_address"],
            subject=r["subject"],
            sent_at=r["sent_at"],
            status=r["status"],
        )
        for r in rows
    ]


@router.get(
    "/messages/{message_id}",
    response_model=MessageRead,
    response_model_by_alias=True,
    responses=problems({404: "no such message, or one of a case the caller may not see (the same answer)"}),
)
async def message(message_id: UUID, principal: CurrentPrincipal, conn: Connection) -> MessageRead:
    """One email of a case's activity history in full (headers, text and HTML)."""
    r = await queries.message(conn, principal, message_id)
    return MessageRead(
        id=r["id"], case_id=r["case_id"], kind=r["kind"], label=r["label"], direction=r["direction"],
        headers=r["headers"], subject=r["subject"],
        text=r["text_body"], html=r["html_body"], from_=r["from_address"], to=r["to_address"], status=r["status"],
        sent_at=r["sent_at"], attempts=r["attempts"], last_error=r["last_error"],
    )  # fmt: skip
