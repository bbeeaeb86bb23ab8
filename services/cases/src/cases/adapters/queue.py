"""The agents' queue over the read model: filters, the urgency and last-activity orders, keyword search over
subject, description and comments, and the assignee menu.

Urgency is one ascending key, (NOT prioritised, coalesce(next_deadline_at, infinity), severity, opened_at, id),
which the partial indexes of migration 0003 hold in that order, so a page (and its keyset cursor) is an index range.
The search uses the two GIN full-text indexes (case_summaries.search_tsv, case_comments.body_tsv): see CANDIDATES.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from cases.adapters.cursor import decode_cursor, decode_urgency_cursor, encode_cursor, encode_urgency_cursor
from cases.adapters.read_model import summary_view
from cases.domain.views import (
    CustomerView,
    PersonView,
    QueueItemView,
    QueuePage,
    QueueSort,
    QueueStatus,
    SlaFilter,
)

CURRENT_AGENTS = "SELECT id FROM users WHERE role IN ('agent', 'admin')"
AGENTS = f"SELECT id, display_name FROM users WHERE id IN ({CURRENT_AGENTS}) ORDER BY display_name NULLS LAST, id"
URGENCY_KEY = "(NOT prioritised), coalesce(next_deadline_at, 'infinity'::timestamptz), severity, opened_at, id"
ORDERS: dict[QueueSort, str] = {
    "urgency": f"ORDER BY {URGENCY_KEY}",
    "last_activity": "ORDER BY last_activity_at DESC, id DESC",
}
_OUTER_ORDERS: dict[QueueSort, str] = {
    "urgency": "ORDER BY (NOT p.prioritised), coalesce(p.next_deadline_at, 'infinity'::timestamptz), p.severity, "
    "p.opened_at, p.id",
    "last_activity": "ORDER BY p.last_activity_at DESC, p.id DESC",
}
_COLUMNS = (
    "id, number, product_id, product_name, subject, severity, prioritised, status, opened_by, opened_at, "
    "closed_at, last_activity_at, version, waiting_on, assignee_id, next_deadline_at"
)
# The search asks the GIN indexes for the matching case ids first. A rare word has few: the page is those ids,
# filtered and sorted (a small sort). A common word has many (building and sorting them all costs far more than a
# page): then the page walks the chosen order's index and tests each row, and a page fills within a few rows.
CANDIDATE_LIMIT = 2000
CANDIDATES = """
    SELECT id FROM case_summaries WHERE search_tsv @@ plainto_tsquery('english', $1)
    UNION
    SELECT case_id FROM case_comments WHERE body_tsv @@ plainto_tsquery('english', $1)
    LIMIT $2
"""
_STATUS: dict[QueueStatus, str | None] = {
    "waiting_on_support": "status = 'open' AND waiting_on = 'support'",
    "waiting_on_customer": "status = 'open' AND waiting_on = 'customer'",
    "open": "status = 'open'",
    "closed": "status = 'closed'",
    "all": None,
}


@dataclass(frozen=True)
class QueueFilter:
    """What the queue asks for; assignee is "me", "unassigned", "anyone" or an agent's id."""

    status: QueueStatus = "open"
    assignee: str | UUID = "anyone"
    prioritised: bool | None = None
    severity: int | None = None
    product: str | None = None
    sla: SlaFilter | None = None
    due_within_hours: int = 4
    q: str | None = None
    sort: QueueSort = "urgency"
    cursor: str | None = None
    limit: int = 20


class _Where:
    def __init__(self) -> None:
        self.conditions: list[str] = []
        self.args: list[object] = []

    def arg(self, value: object) -> str:
        self.args.append(value)
        return f"${len(self.args)}"

    def add(self, condition: str) -> None:
        self.conditions.append(condition)

    @property
    def sql(self) -> str:
        return f"WHERE {' AND '.join(self.conditions)}" if self.conditions else ""


def _assignee(where: _Where, assignee: str | UUID, viewer_id: UUID) -> None:
    if assignee == "anyone":
        return
    if assignee == "unassigned":
        # An assignee whose agent role was revoked counts as unassigned.
        where.add(f"(assignee_id IS NULL OR assignee_id NOT IN ({CURRENT_AGENTS}))")
        return
    agent = viewer_id if assignee == "me" else assignee
    where.add(f"assignee_id = {where.arg(agent)} AND assignee_id IN ({CURRENT_AGENTS})")


def _cursor(where: _Where, sort: QueueSort, cursor: str) -> None:
    if sort == "last_activity":
        at, last_id = decode_cursor(cursor)
        where.add(f"(last_activity_at, id) < ({where.arg(at)}, {where.arg(last_id)})")
        return
    prioritised, deadline, severity, opened_at, last_id = decode_urgency_cursor(cursor)
    position = (
        f"({where.arg(not prioritised)}::boolean, coalesce({where.arg(deadline)}::timestamptz, 'infinity'), "
        f"{where.arg(severity)}::smallint, {where.arg(opened_at)}::timestamptz, {where.arg(last_id)}::uuid)"
    )
    where.add(f"({URGENCY_KEY}) > {position}")


def build_where(f: QueueFilter, viewer_id: UUID, now: datetime, candidates: list[UUID] | None = None) -> _Where:
    """The WHERE clause of a queue page for these filters (the order's cursor included); with candidates, the
    search is those case ids, else a match per row (see queue_page)."""
    where = _Where()
    if (status := _STATUS[f.status]) is not None:
        where.add(status)
    _assignee(where, f.assignee, viewer_id)
    if f.prioritised is not None:
        where.add(f"prioritised = {where.arg(f.prioritised)}")
    if f.severity is not None:
        where.add(f"severity = {where.arg(f.severity)}")
    if f.product is not None:
        where.add(f"product_id = {where.arg(f.product)}")
    if f.sla == "breached":
        where.add(f"status = 'open' AND next_deadline_at < {where.arg(now)}")
    elif f.sla == "due_soon":
        start, end = where.arg(now), where.arg(now + timedelta(hours=f.due_within_hours))
        where.add(f"status = 'open' AND next_deadline_at >= {start} AND next_deadline_at < {end}")
    if candidates is not None:
        where.add(f"id = ANY({where.arg(candidates)}::uuid[])")
    elif f.q is not None and f.q.strip():
        query = f"plainto_tsquery('english', {where.arg(f.q)})"
        where.add(
            f"(search_tsv @@ {query} OR EXISTS (SELECT 1 FROM case_comments AS c "
            f"WHERE c.case_id = case_summaries.id AND c.body_tsv @@ {query}))"
        )
    if f.cursor is not None:
        _cursor(where, f.sort, f.cursor)
    return where


def _page_sql(f: QueueFilter, where: _Where) -> str:
    order = ORDERS[f.sort]
    # Names are joined after the page is chosen, by primary key; a revoked agent is no assignee.
    return f"""
        SELECT p.*, o.display_name AS opened_by_name, o.email AS customer_email,
               a.display_name AS assignee_name, (a.id IS NOT NULL) AS assignee_is_agent
        FROM (SELECT {_COLUMNS} FROM case_summaries {where.sql} {order} LIMIT {f.limit + 1}) AS p
        LEFT JOIN users AS o ON o.id = p.opened_by
        LEFT JOIN users AS a ON a.id = p.assignee_id AND a.role IN ('agent', 'admin')
        {_OUTER_ORDERS[f.sort]}
    """


def _item(row: Any, now: datetime) -> QueueItemView:
    summary = summary_view(row)
    deadline: datetime | None = row["next_deadline_at"]
    return QueueItemView(
        **summary.model_dump(exclude={"product"}),
        product=summary.product,
        assignee=PersonView(id=row["assignee_id"], display_name=row["assignee_name"])
        if row["assignee_is_agent"]
        else None,
        customer=CustomerView(id=row["opened_by"], display_name=row["opened_by_name"], email=row["customer_email"]),
        next_deadline_at=deadline,
        breached=row["status"] == "open" and deadline is not None and deadline < now,
    )


def _next_cursor(f: QueueFilter, last: QueueItemView) -> str:
    if f.sort == "last_activity":
        return encode_cursor(last.last_activity_at, last.id)
    return encode_urgency_cursor(last.prioritised, last.next_deadline_at, last.severity, last.opened_at, last.id)


async def _search_candidates(conn: asyncpg.Connection, q: str) -> list[UUID] | None:
    """The cases whose subject, description or a comment match q, when there are at most CANDIDATE_LIMIT of them;
    None when there are more (a common word)."""
    rows = await conn.fetch(CANDIDATES, q, CANDIDATE_LIMIT + 1)
    return [r["id"] for r in rows] if len(rows) <= CANDIDATE_LIMIT else None


async def queue_page(conn: asyncpg.Connection, f: QueueFilter, viewer_id: UUID, now: datetime) -> QueuePage:
    """One page of the queue, keyset-paginated in the chosen order."""
    searching = f.q is not None and bool(f.q.strip())
    candidates = await _search_candidates(conn, f.q) if searching and f.q is not None else None
    where = build_where(f, viewer_id, now, candidates)
    rows = await conn.fetch(_page_sql(f, where), *where.args)
    items = [_item(r, now) for r in rows[: f.limit]]
    next_cursor = _next_cursor(f, items[-1]) if len(rows) > f.limit and items else None
    return QueuePage(items=items, next_cursor=next_cursor)


async def current_agents(conn: asyncpg.Connection) -> list[PersonView]:
    """Current agents and admins, by display name (the assignee menu)."""
    return [PersonView(id=r["id"], display_name=r["display_name"]) for r in await conn.fetch(AGENTS)]


async def is_current_agent(conn: asyncpg.Connection, user_id: UUID) -> bool:
    found: bool = await conn.fetchval(f"SELECT EXISTS ({CURRENT_AGENTS} AND id = $1)", user_id)
    return found
