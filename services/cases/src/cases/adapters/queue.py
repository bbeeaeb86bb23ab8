"""The agents' queue over the read model: filters, the urgency and last-activity orders, keyword search over
subject, description and comments, and the assignee menu.

Urgency is one ascending key, (NOT prioritised, coalesce(next_deadline_at, infinity), severity, opened_at, id),
which the partial indexes of migration 0003 hold in that order, so a page (and its keyset cursor) is an index range.
The search uses the two GIN full-text indexes (case_summaries.search_tsv, case_comments.body_tsv): see CANDIDATE_LIMIT.
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
# A search is a word test per row, and no one plan is cheap for every word. So, first, the GIN indexes are asked
# for at most CANDIDATE_LIMIT matching case ids (a rare word has no more): the page is those ids by primary key,
# filtered and sorted. A common word has more: the page walks the order's index testing each row (its own tsvector,
# then its comments by primary key), which fills a page within a few rows, but at most RECENT_WINDOW rows, since a
# word common overall may be rare among the rows the filters allow; then, last, the page is among every match.
CANDIDATE_LIMIT = 1000
RECENT_WINDOW = 500
CANDIDATES = """
    SELECT id FROM case_summaries WHERE search_tsv @@ plainto_tsquery('english', $1)
    UNION ALL
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


def build_where(f: QueueFilter, viewer_id: UUID, now: datetime) -> _Where:
    """The WHERE clause of a queue page for these filters (the order's cursor included; the search apart)."""
    where = _Where()
    if (status := _STATUS[f.status]) is not None:
        where.add(status)
    _assignee(where, f.assignee, viewer_id)
    if f.prioritised is not None:
        # In the urgency key's own terms, so that the urgency indexes' leading column answers it (as a plain
        # "prioritised = true" it is a filter on every row they hold: 700,000 when no open case is prioritised).
        where.add(f"(NOT prioritised) = {where.arg(not f.prioritised)}")
    if f.severity is not None:
        where.add(f"severity = {where.arg(f.severity)}")
    if f.product is not None:
        where.add(f"product_id = {where.arg(f.product)}")
    if f.sla == "breached":
        where.add(f"status = 'open' AND next_deadline_at < {where.arg(now)}")
    elif f.sla == "due_soon":
        start, end = where.arg(now), where.arg(now + timedelta(hours=f.due_within_hours))
        where.add(f"status = 'open' AND next_deadline_at >= {start} AND next_deadline_at < {end}")
    if f.cursor is not None:
        _cursor(where, f.sort, f.cursor)
    return where


def _page_sql(f: QueueFilter, page: str, prefix: str = "") -> str:
    """page's rows (a LIMITed, ordered page of _COLUMNS) with the customer's and the assignee's names."""
    # Names are joined after the page is chosen, by primary key; a revoked agent is no assignee.
    return f"""
        {prefix}
        SELECT p.*, o.display_name AS opened_by_name, o.email AS customer_email,
               a.display_name AS assignee_name, (a.id IS NOT NULL) AS assignee_is_agent
        FROM ({page}) AS p
        LEFT JOIN users AS o ON o.id = p.opened_by
        LEFT JOIN users AS a ON a.id = p.assignee_id AND a.role IN ('agent', 'admin')
        {_OUTER_ORDERS[f.sort]}
    """


def _row_matches(table: str, query: str) -> str:
    return (
        f"({table}.search_tsv @@ {query} OR EXISTS (SELECT 1 FROM case_comments AS c "
        f"WHERE c.case_id = {table}.id AND c.body_tsv @@ {query}))"
    )


async def _search(conn: asyncpg.Connection, f: QueueFilter, where: _Where, q: str) -> list[asyncpg.Record]:
    """Up to limit + 1 rows of the page whose subject, description or a comment match q (see CANDIDATE_LIMIT)."""
    found = await conn.fetch(CANDIDATES, q, CANDIDATE_LIMIT + 1)
    if len(found) <= CANDIDATE_LIMIT:
        return await _among(conn, f, where, {r["id"] for r in found})
    order, take, filters = ORDERS[f.sort], f.limit + 1, where.sql
    query = f"plainto_tsquery('english', {where.arg(q)})"
    window = f"SELECT {_COLUMNS}, search_tsv FROM case_summaries {filters} {order} LIMIT {RECENT_WINDOW}"
    recent = f"WITH recent AS MATERIALIZED ({window})"
    page = f"SELECT {_COLUMNS} FROM recent WHERE {_row_matches('recent', query)} {order} LIMIT {take}"
    rows: list[asyncpg.Record] = await conn.fetch(_page_sql(f, page, recent), *where.args)
    filter_args = where.args[:-1]
    if len(rows) > f.limit or await conn.fetchval(f"SELECT count(*) FROM ({window}) AS w", *filter_args) < (
        RECENT_WINDOW
    ):
        return rows
    where.args = filter_args
    every = await conn.fetch(CANDIDATES.replace("LIMIT $2", ""), q)
    return await _among(conn, f, where, {r["id"] for r in every})


async def _among(conn: asyncpg.Connection, f: QueueFilter, where: _Where, ids: set[UUID]) -> list[asyncpg.Record]:
    """The page among these case ids (read by primary key, then filtered and sorted)."""
    where.add(f"id = ANY({where.arg(list(ids))}::uuid[])")
    page = f"SELECT {_COLUMNS} FROM case_summaries {where.sql} {ORDERS[f.sort]} LIMIT {f.limit + 1}"
    rows: list[asyncpg.Record] = await conn.fetch(_page_sql(f, page), *where.args)
    return rows


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


async def queue_page(conn: asyncpg.Connection, f: QueueFilter, viewer_id: UUID, now: datetime) -> QueuePage:
    """One page of the queue, keyset-paginated in the chosen order."""
    where = build_where(f, viewer_id, now)
    if f.q is not None and f.q.strip():
        rows = await _search(conn, f, where, f.q)
    else:
        page = f"SELECT {_COLUMNS} FROM case_summaries {where.sql} {ORDERS[f.sort]} LIMIT {f.limit + 1}"
        rows = await conn.fetch(_page_sql(f, page), *where.args)
    items = [_item(r, now) for r in rows[: f.limit]]
    next_cursor = _next_cursor(f, items[-1]) if len(rows) > f.limit and items else None
    return QueuePage(items=items, next_cursor=next_cursor)


async def current_agents(conn: asyncpg.Connection) -> list[PersonView]:
    """Current agents and admins, by display name (the assignee menu)."""
    return [PersonView(id=r["id"], display_name=r["display_name"]) for r in await conn.fetch(AGENTS)]


async def is_current_agent(conn: asyncpg.Connection, user_id: UUID) -> bool:
    found: bool = await conn.fetchval(f"SELECT EXISTS ({CURRENT_AGENTS} AND id = $1)", user_id)
    return found
