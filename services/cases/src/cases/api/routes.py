"""HTTP routes of the cases service, under /api/cases (the gateway forwards the same paths)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse, Response

from casefold_events.envelope import new_event_id
from casefold_platform.responses import view_response
from cases.api.deps import Command, CurrentCaller, IdempotencyKey, Read
from cases.api.problems import EVERY_ROUTE, invalid_query, problems
from cases.api.schemas import (
    AttachmentCreate,
    AttachmentRead,
    CaseCountsRead,
    CaseCreate,
    CaseList,
    CaseRead,
    CommentCreate,
    CommentRead,
    ProductRead,
    SeverityRead,
)
from cases.app import handlers, queries
from cases.app.handlers import Reply
from cases.domain.commands import AddAttachment, AddComment, CloseCase, OpenCase
from cases.domain.severity import SEVERITIES
from cases.domain.views import StatusFilter

router = APIRouter(prefix="/api/cases", tags=["cases"], responses=EVERY_ROUTE)

CaseId = Annotated[UUID, Path(description="the case id (a UUID)")]
Search = Annotated[str | None, Query(max_length=200, description="keywords or part of a word in the subject")]


def _reply(reply: Reply) -> JSONResponse:
    return JSONResponse(reply.body, status_code=reply.status)


def _searchable(q: str | None) -> str | None:
    if q is not None and "\x00" in q:
        raise invalid_query("q", "The search contains a NUL character (U+0000); remove it.")
    return q


@router.get("/products", response_model=list[ProductRead])
async def list_products(read: Read) -> Any:
    """The product catalogue a case is opened against: [{id, name}]."""
    return [p.model_dump() for p in read.settings.products]


@router.get("/severities", response_model=list[SeverityRead])
async def list_severities(_: CurrentCaller) -> Any:
    """The severity levels a case is opened with, most severe first: [{level, name, description}]."""
    return [SeverityRead(level=s.level, name=s.name, description=s.description) for s in SEVERITIES]


@router.post("", status_code=201, response_model=CaseRead, responses=problems(400, 403, 409, 413, 422))
async def open_case(body: CaseCreate, call: Command, key: IdempotencyKey = None) -> JSONResponse:
    """Open a case (customers with a verified email); product is returned as {id, name}."""
    command = OpenCase(
        case_id=new_event_id(),
        product_id=body.product,
        subject=body.subject,
        description=body.description,
        severity=body.severity,
        attachments=tuple(body.attachments),
    )
    return _reply(await handlers.handle_open_case(call.deps, command, call.caller, call.metadata, key))


@router.get("", response_model=CaseList, responses=problems(422))
async def list_cases(
    read: Read,
    status: Annotated[StatusFilter, Query(description="all, open or closed")] = "all",
    q: Search = None,
    cursor: Annotated[str | None, Query(max_length=200, description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Response:
    """My cases (agents: all cases), newest activity first, keyset-paginated."""
    page = await queries.list_cases(read.deps, read.viewer, status=status, q=_searchable(q), cursor=cursor, limit=limit)
    return view_response(page)


@router.get("/counts", response_model=CaseCountsRead, responses=problems(422))
async def count_cases(read: Read, q: Search = None) -> Response:
    """How many of my cases (agents: of all cases) there are: all, open, closed; with q, those the search finds."""
    return view_response(await queries.count_cases(read.deps, read.viewer, q=_searchable(q)))


@router.get("/by-number/{number}", response_model=CaseRead, responses=problems(404, 422))
async def get_case_by_number(
    read: Read,
    number: Annotated[str, Path(pattern=r"^[0-9]{1,12}$", description='"00001042" or "1042"')],
) -> Response:
    """The case page by its human number."""
    return view_response(await queries.get_case_by_number(read.deps, int(number), read.viewer))


@router.get("/{case_id}", response_model=CaseRead, responses=problems(404, 422))
async def get_case(
    case_id: CaseId,
    read: Read,
    as_of_version: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="the case at this version")] = None,
    as_of: Annotated[datetime | None, Query(description="the case at this RFC 3339 time")] = None,
) -> Response:
    """The case page: details, status, priority, comments in order, attachments; optionally as of a version or time."""
    if as_of_version is not None and as_of is not None:
        raise invalid_query("as_of", "Give as_of_version or as_of, not both.")
    if as_of is not None and as_of.tzinfo is None:
        raise invalid_query("as_of", "as_of needs a time zone (RFC 3339, e.g. 2026-01-31T12:00:00Z).")
    return view_response(
        await queries.get_case(read.deps, case_id, read.viewer, as_of_version=as_of_version, as_of=as_of)
    )


@router.post(
    "/{case_id}/comments", status_code=201, response_model=CommentRead, responses=problems(400, 403, 404, 409, 413, 422)
)
async def add_comment(
    case_id: CaseId,
    body: CommentCreate,
    call: Command,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Comment on an open case (owner or agent; internal comments are for agents only)."""
    command = AddComment(case_id=case_id, comment_id=new_event_id(), body=body.body, internal=body.internal)
    return _reply(await handlers.handle_add_comment(call.deps, command, call.caller, call.metadata, key))


@router.post(
    "/{case_id}/attachments",
    status_code=201,
    response_model=AttachmentRead,
    responses=problems(400, 404, 409, 413, 422),
)
async def add_attachment(case_id: CaseId, body: AttachmentCreate, call: Command) -> JSONResponse:
    """Link an uploaded attachment to an open case (409 if it is already on the case)."""
    command = AddAttachment(case_id=case_id, reference=body.reference)
    return _reply(await handlers.handle_add_attachment(call.deps, command, call.caller, call.metadata))


@router.post("/{case_id}/close", response_model=CaseRead, responses=problems(404, 409, 422))
async def close_case(case_id: CaseId, call: Command) -> JSONResponse:
    """Close a case (owner or agent): closed at once and for good."""
    return _reply(await handlers.handle_close_case(call.deps, CloseCase(case_id=case_id), call.caller, call.metadata))
