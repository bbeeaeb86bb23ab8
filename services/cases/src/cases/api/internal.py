"""Private command routes for other Casefold services, under /internal/cases: never routed by the gateway.

notifications turns a reply by email into a comment here, and adds the reply's attachments (stored first through
attachments' private route, which returns the usual receipt): it has matched the email to the case and checked that
its sender is the case owner or an agent; this service checks again, as for any caller (owner or agent, case open).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from casefold_events.envelope import Actor, Metadata, new_event_id
from casefold_platform.problems import Unauthorized
from casefold_platform.tracing import current_traceparent
from cases.api.deps import Commands
from cases.api.problems import EVERY_ROUTE, problems
from cases.api.schemas import AttachmentRead, CommentRead, Reference
from cases.app import handlers
from cases.config import Settings
from cases.domain.commands import AddAttachment, AddComment, Caller
from cases.domain.errors import AttachmentAlreadyOnCase

internal = APIRouter(prefix="/internal/cases", tags=["internal"], responses=EVERY_ROUTE)


async def _service_caller(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
    settings: Settings = request.app.state.settings
    expected = f"Bearer {settings.internal_api_key.get_secret_value()}"
    if authorization is None or not hmac.compare_digest(authorization.encode(), expected.encode()):
        raise Unauthorized("This route is for Casefold services only.")


class EmailComment(BaseModel):
    """A reply by email, already matched to its case and sender by notifications."""

    model_config = ConfigDict(extra="forbid")

    author_id: UUID
    author_role: Literal["customer", "agent", "admin"]
    body: str = Field(min_length=1, max_length=20_000)
    inbound_message_id: str = Field(min_length=3, max_length=998, description="the email's Message-ID")


@internal.post("/{case_id}/comments", status_code=201, response_model=CommentRead,
               dependencies=[Depends(_service_caller)], responses=problems(400, 404, 409, 413, 422))  # fmt: skip
async def add_comment_from_email(case_id: Annotated[UUID, Path()], body: EmailComment, deps: Commands) -> JSONResponse:
    """Add a reply by email as a comment; one email (its Message-ID) is one comment, however often it is sent."""
    caller = Caller(user_id=body.author_id, role=body.author_role, email_verified=True)
    metadata = Metadata(actor=Actor(user_id=body.author_id, role=body.author_role), traceparent=current_traceparent())
    # The Message-ID is the idempotency key; hashed, since a Message-ID may be longer than a key may be.
    key = "email-" + hashlib.sha256(body.inbound_message_id.encode()).hexdigest()
    command = AddComment(case_id=case_id, comment_id=new_event_id(), body=body.body, internal=False)
    reply = await handlers.handle_add_comment(deps, command, caller, metadata, key)
    return JSONResponse(reply.body, status_code=reply.status)


class EmailAttachment(BaseModel):
    """An attachment of a reply by email, stored by attachments on behalf of the reply's author."""

    model_config = ConfigDict(extra="forbid")

    author_id: UUID
    author_role: Literal["customer", "agent", "admin"]
    reference: Reference = Field(description="the receipt attachments' /internal/attachments route returned")


ALREADY_ON_CASE = {"status": 200, "detail": "This attachment is already on the case."}


@internal.post(
    "/{case_id}/attachments",
    status_code=201,
    response_model=AttachmentRead,
    dependencies=[Depends(_service_caller)],
    responses={
        200: {"description": "already on the case (a retry of the same email): nothing was added"},
        **problems(400, 404, 409, 413, 422),
    },
)
async def add_attachment_from_email(
    case_id: Annotated[UUID, Path()], body: EmailAttachment, deps: Commands
) -> JSONResponse:
    """Add an attachment of a reply by email to the case, added by the reply's author; a retry adds nothing."""
    caller = Caller(user_id=body.author_id, role=body.author_role, email_verified=True)
    metadata = Metadata(actor=Actor(user_id=body.author_id, role=body.author_role), traceparent=current_traceparent())
    try:
        reply = await handlers.handle_add_attachment(deps, AddAttachment(case_id=case_id, reference=body.reference),
                                                     caller, metadata)  # fmt: skip
    except AttachmentAlreadyOnCase:
        return JSONResponse(ALREADY_ON_CASE, status_code=200)
    return JSONResponse(reply.body, status_code=reply.status)
