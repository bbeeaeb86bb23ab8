"""Private routes for other Casefold services, under /internal/attachments: never routed by the gateway.

notifications stores the attachments of a reply by email here, on behalf of the reply's author (whom it has matched
to the case), with the same sniffing and limits as an upload; the answer carries the receipt the cases service
accepts. The caller names the attachment's id (derived from the email's Message-ID and part), so a retry of the same
part finds what the first attempt stored instead of storing it again.
"""

from __future__ import annotations

import hmac
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse

from attachments.adapters import repository as repo
from attachments.api.deps import AppSettings, BlobStorage, Pool
from attachments.api.routes import receive_and_store
from attachments.api.schemas import UPLOAD_OPENAPI, AttachmentUploaded
from attachments.config import Settings
from casefold_events import receipts
from casefold_events.contracts import AttachmentRef
from casefold_platform.auth import Principal
from casefold_platform.problems import PROBLEM_CONTENT_TYPE, Conflict, Unauthorized

internal = APIRouter(prefix="/internal/attachments", tags=["internal"])


async def _service_caller(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
    settings: Settings = request.app.state.settings
    expected = f"Bearer {settings.internal_api_key.get_secret_value()}"
    if authorization is None or not hmac.compare_digest(authorization.encode(), expected.encode()):
        raise Unauthorized("This route is for Casefold services only.")


@internal.put(
    "/{attachment_id}",
    status_code=201,
    response_model=AttachmentUploaded,
    openapi_extra=UPLOAD_OPENAPI,
    dependencies=[Depends(_service_caller)],
    responses={
        200: {"model": AttachmentUploaded, "description": "stored before (a retry): the same attachment"},
        **{
            status: {"description": words, "content": {PROBLEM_CONTENT_TYPE: {}}}
            for status, words in (
                (401, "no service key, or a wrong one"),
                (409, "this id is stored for another author"),
                (413, "the file is larger than the limit"),
                (415, "this type of file is not accepted (checked by content)"),
                (503, "a dependency (database, object store) is down; retry after Retry-After seconds"),
            )
        },
    },
)
async def store_for_author(
    attachment_id: Annotated[uuid.UUID, Path()],
    uploaded_by: Annotated[uuid.UUID, Query(description="the author the file is stored for")],
    role: Annotated[Literal["customer", "agent", "admin"], Query(description="the author's role")],
    request: Request,
    pool: Pool,
    storage: BlobStorage,
    settings: AppSettings,
) -> JSONResponse:
    """Store one file (a multipart `file` part, optional `case_id`) for an author, as their upload would be."""
    async with pool.acquire() as conn:
        existing = await repo.get_attachment(conn, attachment_id)
    if existing is not None:
        if existing.uploaded_by != uploaded_by:
            raise Conflict("This attachment id is already used for another author's file.")
        ref = AttachmentRef(attachment_id=existing.id, filename=existing.filename, size=existing.size,
                            content_type=existing.content_type, sha256=existing.sha256)  # fmt: skip
        reference = receipts.issue(settings.receipt_key_bytes, ref, uploaded_by, ttl=settings.unlinked_ttl)
        answer = AttachmentUploaded(**ref.model_dump(exclude={"attachment_id"}), id=existing.id, reference=reference)
        return JSONResponse(answer.model_dump(mode="json"), status_code=200)
    # No token: the service key is the proof, and the author is the one notifications matched to the case.
    principal = Principal(uploaded_by, role, display_name="", email_verified=True, token_id="")
    [answer] = await receive_and_store(request, principal, pool, storage, settings, max_files=1,
                                       attachment_ids=[attachment_id])  # fmt: skip
    return JSONResponse(answer.model_dump(mode="json"), status_code=201)
