"""The agents' queue over the read model: filters, the urgency and last-activity orders, keyword search over
subject, description and comments, and the assignee menu.

Urgency is one ascending key, (NOT prioritised, coalesce(next_deadline_at, infinity), severity, opened_at, id),
which the partial indexes of migration 0003 hold in that order, so a page (and its keyset cursor) is an index range.
The search reads the one search document per case (case_search, migration 0006): see BITMAP_MAX.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from cases.adapters.cursor import decode_cursor, decode_urgency_cursor, encode_cursor, encode_urgency_cursor
from cases.adapters.read_model import summary_fields
from cases.domain.views import (
    CustomerView,
    PersonView,
    QueueItemView,
    QueuePage,
    QueueSort,
    QueueStatus,
    SlaFilter,
)

# A disabled account is no current agent, like a revoked one (directory.Person.is_current_agent).
CURRENT_AGENTS = "SELECT id FROM users WHERE role IN ('agent', 'admin') AND NOT disabled"
AGENTS = f"SELECT id, display_name FROM users WHERE id IN ({CURRENT_AGENTS}) ORDER BY display_name NULLS LAST, id"
# The distinct assignees by a skip scan of the assignee index (one descent each: there are few agents), less the
# current agents: the assignees whose role was revoked.
REVOKED_ASSIGNEES = f"""
    WITH RECURSIVE a AS (
        (SELECT assignee_id FROM case_summaries WHERE assignee_id IS NOT NULL ORDER BY assignee_id LIMIT 1)
        UNION ALL
        SELECT (SELECT s.assignee_id FROM case_summaries AS s WHERE s.assignee_id > a.assignee_id
                ORDER BY s.assignee_id LIMIT 1)
        FROM a WHERE a.assignee_id IS NOT NULL
    )
    SELECT assignee_id FROM a WHERE assignee_id IS NOT NULL AND assignee_id NOT IN ({CURRENT_AGENTS})
"""
# The SLA filters compare this expression, the urgency indexes' second column, with now (a case without a running
# deadline is at infinity: never breached, never due). As a plain "next_deadline_at < $now" the breach filter was
# no index condition: a prepared statement's generic plan (asyncpg prepares every query; PostgreSQL switches to the
# generic plan after five runs), which cannot know how few cases are breached, walked the urgency index filtering
# each row's heap tuple: 700,000 open cases, seconds, when fewer than a page were breached (3 s at 1,000,000 cases;
# 25 ms p50 in the queue bench, where the prioritised are walked first). As an index condition the walk skips
# (PostgreSQL 18's skip scan over the prioritised column) to the breached range in order: under 1 ms either plan.
DEADLINE = "coalesce(next_deadline_at, 'infinity'::timestamptz)"
URGENCY_KEY = f"(NOT prioritised), {DEADLINE}, severity, opened_at, id"
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
# A search is one word test per case, against its search document (case_search.doc, migration 0006), and no one
# plan is cheap for every word, so the planner's estimate of the matches (from the document's lexeme statistics)
# chooses: up to BITMAP_MAX matches, the GIN index gives them and they are filtered and sorted on case_search's own
# copies of the queue's columns (no summary read but the page's); more, and the word is common: the page walks the
# order's index testing each row's document by primary key, which fills a page within 1 / (share of cases
# matching) rows, but at most WALK_WINDOW rows, since a word common overall may be rare among the rows the filters
# allow; a walk that neither fills the page nor sees every row falls back to the GIN path.
BITMAP_MAX = 6_000
WALK_WINDOW = 3_000
QUERY = "plainto_tsquery('english', {})"
# words: how many lexemes the query has (0: only stop words, nothing matches; 1: the document decides alone).
SEARCH_PLAN = """
    SELECT numnode(t.q) AS words, cases_search_estimate(t.q) AS estimate FROM plainto_tsquery('english', $1) AS t(q)
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
        self.unassigned_range = False  # assignee_id IS NULL alone: see _order

    def arg(self, value: object) -> str:
        self.args.append(value)
        return f"${len(self.args)}"

    def add(self, condition: str) -> None:
        self.conditions.append(condition)

    @property
    def sql(self) -> str:
        return f"WHERE {' AND '.join(self.conditions)}" if self.conditions else ""


def _assignee(where: _Where, assignee: str | UUID, viewer_id: UUID, revoked: list[UUID]) -> None:
    if assignee == "anyone":
        return
    if assignee == "unassigned":
        # An assignee whose agent role was revoked counts as unassigned. Those are listed first (revoked), so that
        # without any the condition is a range of the assignee indexes, in the queue's order (the filter "NOT IN
        # the current agents" walked every assigned case before the first unassigned one).
        if revoked:
            where.add(f"(assignee_id IS NULL OR assignee_id = ANY({where.arg(revoked)}::uuid[]))")
        else:
            where.add("assignee_id IS NULL")
            where.unassigned_range = True
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


def build_where(f: QueueFilter, viewer_id: UUID, now: datetime, revoked: list[UUID] | None = None) -> _Where:
    """The WHERE clause of a queue page for these filters (the order's cursor included; the search apart);
    revoked: the assignees who are no current agent (REVOKED_ASSIGNEES), for assignee "unassigned"."""
    where = _Where()
    if (status := _STATUS[f.status]) is not None:
        where.add(status)
    _assignee(where, f.assignee, viewer_id, revoked or [])
    if f.prioritised is not None:
        # In the urgency key's own terms, so that the urgency indexes' leading column answers it (as a plain
        # "prioritised = true" it is a filter on every row they hold: 700,000 when no open case is prioritised).
        where.add(f"(NOT prioritised) = {where.arg(not f.prioritised)}")
    if f.severity is not None:
        where.add(f"severity = {where.arg(f.severity)}")
    if f.product is not None:
        where.add(f"product_id = {where.arg(f.product)}")
    # The deadline in the urgency key's own terms (DEADLINE): a condition on the urgency indexes' column, not a
    # filter of the rows they walk; see DEADLINE.
    if f.sla == "breached":
        where.add(f"status = 'open' AND {DEADLINE} < {where.arg(now)}")
    elif f.sla == "due_soon":
        start, end = where.arg(now), where.arg(now + timedelta(hours=f.due_within_hours))
        where.add(f"status = 'open' AND {DEADLINE} >= {start} AND {DEADLINE} < {end}")
    if f.cursor is not None:
        _cursor(where, f.sort, f.cursor)
    return where


def _order(f: QueueFilter, where: _Where) -> str:
    """The page's ORDER BY. Unassigned open cases are led by assignee_id (all null, so the order is the same): only
    the assignee indexes give that order, so the planner takes their null range rather than walking the status
    index past every assigned case (at 1,000,000 cases, 20,000 of them, 90 ms, when the prioritised are assigned).
    Not while a revoked agent's cases count as unassigned too: no index range holds both (that walks, as before)."""
    if where.unassigned_range and f.status not in ("closed", "all"):
        return ORDERS[f.sort].replace("ORDER BY ", "ORDER BY assignee_id, ", 1)
    return ORDERS[f.sort]


def _page_sql(f: QueueFilter, page: str, prefix: str = "") -> str:
    """page's rows (a LIMITed, ordered page of _COLUMNS) with the customer's and the assignee's names."""
    # Names are joined after the page is chosen, by primary key; a revoked or disabled agent is no assignee.
    return f"""
        {prefix}
        SELECT p.*, o.display_name AS opened_by_name, o.email AS customer_email,
               a.display_name AS assignee_name, (a.id IS NOT NULL) AS assignee_is_agent
        FROM ({page}) AS p
        LEFT JOIN users AS o ON o.id = p.opened_by
        LEFT JOIN users AS a ON a.id = p.assignee_id AND a.role IN ('agent', 'admin') AND NOT a.disabled
        {_OUTER_ORDERS[f.sort]}
    """


def _one_text_matches(case_id: str, summary_tsv: str | None, query: str) -> str:
    """Every word in one text: the subject and description together, or any one comment (as before 0006)."""
    own = summary_tsv or f"(SELECT s.search_tsv FROM case_summaries AS s WHERE s.id = {case_id})"
    return (
        f"({own} @@ {query} OR EXISTS (SELECT 1 FROM case_comments AS c "
        f"WHERE c.case_id = {case_id} AND c.body_tsv @@ {query}))"
    )


async def _search(conn: asyncpg.Connection, f: QueueFilter, where: _Where, q: str) -> list[asyncpg.Record]:
    """Up to limit + 1 rows of the page whose subject, description or a comment match q (see BITMAP_MAX)."""
    plan = await conn.fetchrow(SEARCH_PLAN, q)
    if plan["words"] == 0:
        return []
    # A document holds the words of every text of its case; with several words it is a superset, so each match is
    # checked for a text holding them all (the semantics of the per-text search this replaced).
    several = plan["words"] > 1
    query = QUERY.format(where.arg(q))
    if plan["estimate"] > BITMAP_MAX:
        rows = await _walk(conn, f, where, query, several)
        if rows is not None:
            return rows
    return await _matches(conn, f, where, query, several)


async def _walk(
    conn: asyncpg.Connection, f: QueueFilter, where: _Where, query: str, several: bool
) -> list[asyncpg.Record] | None:
    """The page by walking the order's index (None: WALK_WINDOW rows seen without filling it)."""
    order, take = _order(f, where), f.limit + 1
    window = f"SELECT {_COLUMNS}, search_tsv FROM case_summaries {where.sql} {order} LIMIT {WALK_WINDOW}"
    # Each row's document by primary key (OFFSET 0: never a hash join over every match); the one-text check names
    # d, so it runs only on the rows whose document matched (the cheap test first).
    check = f"WHERE {_one_text_matches('d.id', 'w.search_tsv', query)}" if several else ""
    # No ORDER BY above the window: its rows come in the index's order, so the walk stops at the take-th match
    # (a sort there would test every row of the window first); the page's own query sorts the few rows.
    page = (
        f"SELECT {', '.join(f'w.{c}' for c in _COLUMNS.split(', '))} FROM ({window}) AS w "
        f"CROSS JOIN LATERAL (SELECT id FROM case_search WHERE id = w.id AND doc @@ {query} OFFSET 0) AS d "
        f"{check} LIMIT {take}"
    )
    rows: list[asyncpg.Record] = await conn.fetch(_page_sql(f, page), *where.args)
    if len(rows) == take:
        return rows
    seen = await conn.fetchval(f"SELECT count(*) FROM ({window}) AS w", *where.args[:-1])
    return rows if seen < WALK_WINDOW else None


async def _matches(
    conn: asyncpg.Connection, f: QueueFilter, where: _Where, query: str, several: bool
) -> list[asyncpg.Record]:
    """The page among every match, from the GIN index, filtered and sorted on case_search."""
    order, take = _order(f, where), f.limit + 1
    where.add(f"doc @@ {query}")
    hits = f"SELECT id FROM case_search {where.sql} {order} LIMIT {take}"
    if several:
        # OFFSET 0 keeps the check above the sort, so it runs on matches in order until the page is full.
        ordered = f"SELECT id FROM case_search {where.sql} {order} OFFSET 0"
        hits = f"SELECT h.id FROM ({ordered}) AS h WHERE {_one_text_matches('h.id', None, query)} LIMIT {take}"
    page = f"SELECT {_COLUMNS} FROM case_summaries WHERE id IN ({hits}) {order} LIMIT {take}"
    rows: list[asyncpg.Record] = await conn.fetch(_page_sql(f, page), *where.args)
    return rows


def _item(row: Any, now: datetime) -> QueueItemView:
    deadline: datetime | None = row["next_deadline_at"]
    return QueueItemView(
        **summary_fields(row),
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
    revoked = [r[0] for r in await conn.fetch(REVOKED_ASSIGNEES)] if f.assignee == "unassigned" else []
    where = build_where(f, viewer_id, now, revoked)
    if f.q is not None and f.q.strip():
        rows = await _search(conn, f, where, f.q)
    else:
        page = f"SELECT {_COLUMNS} FROM case_summaries {where.sql} {_order(f, where)} LIMIT {f.limit + 1}"
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
