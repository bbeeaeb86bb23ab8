"""The read side: the case page (current, or as of a version or a time), pages of my cases, the catalogue."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

import asyncpg

from casefold_events.store import Repository
from cases.adapters import directory, queue, read_model
from cases.adapters.queue import QueueFilter
from cases.app.render import case_view, people_of
from cases.domain.clock import Clock, SystemClock
from cases.domain.commands import Caller
from cases.domain.errors import CaseNotFound, NotAllowed
from cases.domain.model import Case
from cases.domain.views import COUNT_CAP, CaseCounts, CasePage, CaseView, PersonView, QueuePage, StatusFilter


@dataclass(frozen=True)
class QueryDeps:
    pool: asyncpg.Pool
    repository: Repository[Case]
    clock: Clock = field(default_factory=SystemClock)
    # An agent's counts stop at this many cases per status (read_model.COUNT_CAP; CASES_COUNT_CAP).
    count_cap: int = COUNT_CAP


async def get_case(
    deps: QueryDeps,
    case_id: UUID,
    viewer: Caller,
    *,
    as_of_version: int | None = None,
    as_of: datetime | None = None,
) -> CaseView:
    """The case page from the read model; as of a version or a time, a fold of the case's own events."""
    if as_of_version is not None or as_of is not None:
        return await _time_travel(deps, case_id, viewer, as_of_version, as_of)
    async with deps.pool.acquire() as conn:
        found = await read_model.get_case(conn, case_id, viewer, deps.clock.now())
    if found is None:
        raise CaseNotFound
    return found


async def _time_travel(
    deps: QueryDeps, case_id: UUID, viewer: Caller, to_version: int | None, until: datetime | None
) -> CaseView:
    case = await deps.repository.load(deps.pool, str(case_id), to_version=to_version, until=until)
    # Ownership never changes, so the folded state answers who may see it at any point of its history.
    case.ensure_visible_to(viewer)
    async with deps.pool.acquire() as conn:
        people = await directory.people(conn, people_of(case))
    # Names are today's even for a past version: the page shows who these people are, not what they were called.
    return case_view(case, viewer, people)


async def get_case_by_number(deps: QueryDeps, number: int, viewer: Caller) -> CaseView:
    async with deps.pool.acquire() as conn:
        case_id = await read_model.case_id_by_number(conn, number)
        found = await read_model.get_case(conn, case_id, viewer, deps.clock.now()) if case_id is not None else None
    if found is None:
        raise CaseNotFound
    return found


async def list_cases(
    deps: QueryDeps,
    viewer: Caller,
    *,
    status: StatusFilter = "all",
    q: str | None = None,
    cursor: str | None = None,
    limit: int = 20,
) -> CasePage:
    async with deps.pool.acquire() as conn:
        return await read_model.list_cases(conn, viewer, status=status, q=q, cursor=cursor, limit=limit)


async def count_cases(deps: QueryDeps, viewer: Caller, *, q: str | None = None) -> CaseCounts:
    """Always fresh: an agent's counts are capped (a few milliseconds at any size), a customer's are their own."""
    async with deps.pool.acquire() as conn:
        return await read_model.count_cases(conn, viewer, q=q, cap=deps.count_cap)


def _ensure_agent(viewer: Caller) -> None:
    if not viewer.is_agent:
        raise NotAllowed("Only support agents and admins may read the queue and the agents.")


async def queue_page(deps: QueryDeps, viewer: Caller, filters: QueueFilter) -> QueuePage:
    """A page of the agents' queue (agents and admins only)."""
    _ensure_agent(viewer)
    async with deps.pool.acquire() as conn:
        return await queue.queue_page(conn, filters, viewer.user_id, deps.clock.now())


async def list_agents(deps: QueryDeps, viewer: Caller) -> list[PersonView]:
    """The current agents and admins (agents and admins only)."""
    _ensure_agent(viewer)
    async with deps.pool.acquire() as conn:
        return await queue.current_agents(conn)
