"""The agents' routes under /api/cases: queue, assignee menu, assignment, waiting state, severity (agents and
admins only; a customer gets 403 on their own case, 404 on anyone else's). Included before the case routes, so that
/queue and /agents are not read as a case id."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse, Response

from casefold_platform.responses import view_response
from cases.adapters.queue import QueueFilter
from cases.api.deps import Command, IdempotencyKey, Read
from cases.api.problems import EVERY_ROUTE, invalid_query, problems
from cases.api.schemas import AgentRead, AssignmentUpdate, CaseRead, QueueList, SeverityUpdate, WaitingUpdate
from cases.app import handlers, queries
from cases.app.handlers import Reply
from cases.domain.commands import AssignCase, ChangeSeverity, SetWaiting
from cases.domain.severity import HIGHEST_LEVEL, LOWEST_LEVEL
from cases.domain.views import QueueSort, QueueStatus, SlaFilter

agent_router = APIRouter(prefix="/api/cases", tags=["agents"], responses=EVERY_ROUTE)

CaseId = Annotated[UUID, Path(description="the case id (a UUID)")]
MAX_DUE_WITHIN_HOURS = 720
_COMMAND_ANSWERS = problems(400, 403, 404, 409, 413, 422)


def _reply(reply: Reply) -> JSONResponse:
    return JSONResponse(reply.body, status_code=reply.status)


def _assignee(value: str) -> str | UUID:
    if value in ("me", "unassigned", "anyone"):
        return value
    try:
        return UUID(value)
    except ValueError:
        raise invalid_query("assignee", "assignee is me, unassigned, anyone or an agent's id.") from None


@agent_router.get("/queue", response_model=QueueList, responses=problems(403, 422))
async def queue(
    read: Read,
    status: Annotated[QueueStatus, Query(description="open (both waiting states) by default")] = "open",
    assignee: Annotated[
        str, Query(max_length=36, description="me, unassigned (also a revoked agent's cases), anyone or an agent id")
    ] = "anyone",
    prioritised: Annotated[bool | None, Query(description="only prioritised (true) or only not (false)")] = None,
    severity: Annotated[int | None, Query(ge=LOWEST_LEVEL, le=HIGHEST_LEVEL)] = None,
    product: Annotated[str | None, Query(min_length=1, max_length=64, description="a product id")] = None,
    sla: Annotated[SlaFilter | None, Query(description="breached, or due_soon (within due_within_hours)")] = None,
    due_within_hours: Annotated[int, Query(ge=1, le=MAX_DUE_WITHIN_HOURS, description="for sla=due_soon")] = 4,
    q: Annotated[
        str | None, Query(max_length=200, description="keywords in the subject, description or any comment")
    ] = None,
    sort: Annotated[QueueSort, Query(description="urgency (prioritised, deadline, severity) or last_activity")] = (
        "urgency"
    ),
    cursor: Annotated[str | None, Query(max_length=200, description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Response:
    """The agents' queue: filter by status, assignee, priority, severity, product, SLA and keywords; keyset pages."""
    if product is not None and product not in {p.id for p in read.settings.products}:
        raise invalid_query("product", "Unknown product; GET /api/cases/products lists them.")
    if q is not None and "\x00" in q:
        raise invalid_query("q", "The search contains a NUL character (U+0000); remove it.")
    filters = QueueFilter(
        status=status,
        assignee=_assignee(assignee),
        prioritised=prioritised,
        severity=severity,
        product=product,
        sla=sla,
        due_within_hours=due_within_hours,
        q=q,
        sort=sort,
        cursor=cursor,
        limit=limit,
    )
    return view_response(await queries.queue_page(read.deps, read.viewer, filters))


@agent_router.get("/agents", response_model=list[AgentRead], responses=problems(403))
async def list_agents(read: Read) -> Response:
    """The current agents and admins, by display name (the assignee menu)."""
    return view_response(await queries.list_agents(read.deps, read.viewer))


@agent_router.post("/{case_id}/assignment", response_model=CaseRead, responses=_COMMAND_ANSWERS)
async def assign_case(
    case_id: CaseId,
    body: AssignmentUpdate,
    call: Command,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Take a case (your own id), give it to another agent, or unassign it (null)."""
    command = AssignCase(case_id=case_id, assignee_id=body.assignee_id)
    return _reply(await handlers.handle_assign(call.deps, command, call.caller, call.metadata, key))


@agent_router.post("/{case_id}/waiting", response_model=CaseRead, responses=_COMMAND_ANSWERS)
async def set_waiting(
    case_id: CaseId,
    body: WaitingUpdate,
    call: Command,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Mark an open case waiting on the customer or on support (the customer's next comment sets it to support)."""
    command = SetWaiting(case_id=case_id, waiting_on=body.waiting_on)
    return _reply(await handlers.handle_set_waiting(call.deps, command, call.caller, call.metadata, key))


@agent_router.post("/{case_id}/severity", response_model=CaseRead, responses=_COMMAND_ANSWERS)
async def change_severity(
    case_id: CaseId,
    body: SeverityUpdate,
    call: Command,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Change an open case's severity, or lower its "Production Down" prioritisation, with a recorded reason."""
    command = ChangeSeverity(case_id=case_id, severity=body.severity, reason=body.reason, prioritised=body.prioritised)
    return _reply(await handlers.handle_change_severity(call.deps, command, call.caller, call.metadata, key))
