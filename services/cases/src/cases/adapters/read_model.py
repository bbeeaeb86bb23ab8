"""Queries over the read model: one case with its comments and attachments, and pages of case summaries."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from cases.adapters import directory
from cases.adapters.cursor import decode_cursor, encode_cursor
from cases.domain.commands import Caller
from cases.domain.views import (
    COUNT_CAP,
    AttachmentView,
    CaseCounts,
    CasePage,
    CaseSummaryView,
    CaseView,
    CommentView,
    CustomerView,
    PersonView,
    ProductView,
    SeverityChangeView,
    SlaView,
    StatusFilter,
    format_number,
    sla_view,
)

_SUMMARY_COLUMNS = (
    "id, number, product_id, product_name, subject, severity, prioritised, status, opened_by, opened_at, "
    "closed_at, last_activity_at, version, waiting_on"
)
_AGENT_COLUMNS = (
    "assignee_id, severity_changes, first_response_due_at, first_responded_at, resolution_due_at, "
    "resolution_remaining_seconds, resolution_paused"
)
_ORDER = "ORDER BY last_activity_at DESC, id DESC"
# Names are joined at read time (a rename shows everywhere at once), by primary key, after the page is chosen.
CASE_BY_ID = f"""
    SELECT c.*, u.display_name AS opened_by_name, u.email AS opened_by_email
    FROM (SELECT {_SUMMARY_COLUMNS}, description, {_AGENT_COLUMNS} FROM case_summaries WHERE id = $1) AS c
    LEFT JOIN users AS u ON u.id = c.opened_by
"""
SLA_CLOCKS = f"SELECT {_AGENT_COLUMNS} FROM case_summaries WHERE id = $1"
CASE_ID_BY_NUMBER = "SELECT id FROM case_summaries WHERE number = $1"
COMMENTS = """
    SELECT c.comment_id, c.author_id, u.display_name AS author_name, c.author_role, c.body, c.internal, c.created_at
    FROM case_comments AS c LEFT JOIN users AS u ON u.id = c.author_id
    WHERE c.case_id = $1 AND (c.internal = false OR $2) ORDER BY c.seq
"""
ATTACHMENTS = """
    SELECT attachment_id, filename, size, content_type, sha256, added_by, added_at FROM case_attachments
    WHERE case_id = $1 ORDER BY seq
"""
COUNTS = """
    SELECT count(*) AS "all", count(*) FILTER (WHERE status = 'open') AS open,
           count(*) FILTER (WHERE status = 'closed') AS closed
    FROM {source} {filters}
"""
# An agent counts every case up to a cap (cap + 1 rows found: "more than cap"). Without a search, each status on its
# own: a range of the status index, read index-only. With one, the matches in one pass (counting one status alone
# walks every match when that status is rare among them): the first cap + 1 of SubjectSearch.disjoint; past the
# cap, open and closed are those among the first cap matches, lower bounds too.
CAPPED_STATUS = "(SELECT count(*) FROM (SELECT 1 FROM case_summaries WHERE status = '{status}' LIMIT {take}) AS c)"
CAPPED_MATCHES = """
    SELECT count(*) AS seen, count(*) FILTER (WHERE status = 'open' AND n <= {cap}) AS open,
           count(*) FILTER (WHERE status = 'closed' AND n <= {cap}) AS closed
    FROM (SELECT status, row_number() OVER () AS n FROM ({matches}) AS m LIMIT {take}) AS counted
"""
# A customer's search is counted among their own cases, read by the owner index first (OFFSET 0 keeps the planner
# from merging the two): left alone, the prepared statement's generic plan asks the text indexes for every
# customer's matches of a common prefix and filters by owner after (25 ms instead of 0.3 ms at 1M cases).
OWN_CASES = "(SELECT status, subject, subject_tsv FROM case_summaries WHERE opened_by = {owner} OFFSET 0) AS own"


def _named(page_query: str) -> str:
    """page_query's rows (a LIMITed page) with their owner's display name, still newest activity first."""
    return f"""
        SELECT p.*, u.display_name AS opened_by_name FROM ({page_query}) AS p
        LEFT JOIN users AS u ON u.id = p.opened_by ORDER BY p.last_activity_at DESC, p.id DESC
    """


# Words for the full-text branch: letters and digits only, so a tsquery can never be malformed.
_WORD = re.compile(r"\w+")
_MAX_WORDS = 16
# Shorter fragments cannot use the trigram index and would scan every subject.
MIN_PARTIAL_LENGTH = 3
# Searching, the planner tends to walk the activity index and filter: right for common words (a page is found
# within a few thousand rows), ruinous for rare ones (it reads all million rows to find nothing). So a search first
# looks among the RECENT_WINDOW newest cases the filters allow; that answers when it fills a page or sees every
# candidate. Otherwise the words are rare there, and the text indexes (bitmap scans, then a sort) answer cheaply.
RECENT_WINDOW = 5000
# Unless the candidates are few: the window reads its RECENT_WINDOW rows whatever the words, the text indexes read
# each candidate, so up to INDEX_FIRST_MAX candidates they answer alone, cheaper than the window even when it would
# have filled the page (at 1,000,000 cases a word found nowhere cost 7.5 ms for a window read for nothing, now 1.2
# ms; two words 8.5-11 ms, now 4-6). The planner estimates the candidates from the prefix index's statistics (its
# most common keys) among every case. Only for an agent: a customer's window is their own cases, read by the owner
# index in 0.5 ms, less than the estimate costs.
INDEX_FIRST_MAX = RECENT_WINDOW
CANDIDATES_ESTIMATE = "EXPLAIN (FORMAT JSON) SELECT 1 FROM case_summaries WHERE {candidates}"
# A custom plan too: the generic plan a prepared statement gets after five runs cannot see how selective the
# words are (at 1,000,000 cases a word found nowhere took 13 ms that way, 2 ms planned for its words).
# And one process: a parallel bitmap scan (which the planner takes for a count of a common word's matches) only adds
# the workers' start to a request's time on a busy machine.
FORCE_TEXT_INDEXES = (
    "SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off; SET LOCAL enable_indexonlyscan = off; "
    "SET LOCAL plan_cache_mode = force_custom_plan; SET LOCAL max_parallel_workers_per_gather = 0"
)


@dataclass(frozen=True)
class SearchTerms:
    tsquery: str | None
    like: str | None
    # The same words, space-separated: what the prefix index is probed with (cases_subject_probe, migration 0008).
    words: str | None = None

    @classmethod
    def parse(cls, q: str) -> SearchTerms:
        """Every word as a prefix (AND); a single fragment also as a substring (partial words)."""
        words = _WORD.findall(q.casefold())[:_MAX_WORDS]
        tsquery = " & ".join(f"{w}:*" for w in words) or None
        text = q.strip()
        like = None
        # One fragment only: a phrase's words are already prefixes, and a long phrase's trigrams cost many index
        # lookups for nothing.
        if len(text) >= MIN_PARTIAL_LENGTH and not any(c.isspace() for c in text):
            escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            like = f"%{escaped}%"
        return cls(tsquery, like, " ".join(words) or None)


@dataclass(frozen=True)
class SubjectSearch:
    """A subject search as SQL conditions over case_summaries: exact is the search itself (every word a prefix of a
    subject word, or the fragment a substring); candidates holds whenever exact does and is what the indexes answer:
    the words' prefixes are exact keys of the prefix index (migration 0008), so GIN intersects them by its fast scan
    instead of reading every posting of every word that starts so. A query word longer than the index's prefixes is
    looked up by its first characters: candidates is a superset, and exact is always checked too."""

    words: str | None  # every word a prefix of a subject word (the subject's text index)
    prefixes: str | None  # candidates of words (the prefix index)
    like: str | None  # the fragment a substring (the trigram index)
    # How many of the last parameters only candidates uses (a statement without exact's caller passes none of them).
    candidates_own_args: int = 0

    @property
    def exact(self) -> str:
        return "(" + (" OR ".join(c for c in (self.words, self.like) if c) or "false") + ")"

    @property
    def candidates(self) -> str:
        # The substring first: the trigram index's candidates are rechecked on the table, and an OR stops at its
        # first true arm, so the prefixes (computed from the subject's words for each row rechecked) mostly are not.
        return "(" + (" OR ".join(c for c in (self.like, self.prefixes) if c) or "false") + ")"

    def disjoint(self, columns: str) -> str:
        """The matches as a UNION ALL of disjoint parts, each answered by one index, the prefix index's first: a
        LIMIT above stops before the trigram index is read at all when the words' matches reach it."""
        parts = []
        if self.words and self.prefixes:
            # the exact test above an OFFSET 0 fence, so that the subject's text index is not brought in for it
            parts.append(f"SELECT {columns} FROM (SELECT {columns}, subject_tsv FROM case_summaries "
                         f"WHERE {self.prefixes} OFFSET 0) AS w WHERE {self.words}")  # fmt: skip
        if self.like:
            rest = f" AND NOT {self.words}" if self.words else ""
            parts.append(f"SELECT {columns} FROM case_summaries WHERE {self.like}{rest}")
        return " UNION ALL ".join(f"({part})" for part in parts) or f"SELECT {columns} FROM case_summaries WHERE false"


def summary_fields(row: asyncpg.Record) -> dict[str, Any]:
    """The fields of a CaseSummaryView from a case_summaries row (views that extend it add theirs and validate once)."""
    return {
        "id": row["id"],
        "number": format_number(row["number"]),
        "product": ProductView(id=row["product_id"], name=row["product_name"]),
        "subject": row["subject"],
        "severity": row["severity"],
        "prioritised": row["prioritised"],
        "status": row["status"],
        "opened_by": row["opened_by"],
        "opened_by_name": row["opened_by_name"],
        "opened_at": row["opened_at"],
        "closed_at": row["closed_at"],
        "last_activity_at": row["last_activity_at"],
        "version": row["version"],
        "waiting_on": row["waiting_on"],
    }


def summary_view(row: asyncpg.Record) -> CaseSummaryView:
    return CaseSummaryView(**summary_fields(row))


def sla_of(row: asyncpg.Record, now: datetime) -> SlaView | None:
    """The SLA clocks of a case_summaries row as of now (None while the SLA projection has not set them)."""
    return sla_view(
        first_response_due_at=row["first_response_due_at"],
        first_responded_at=row["first_responded_at"],
        resolution_due_at=row["resolution_due_at"],
        resolution_remaining_seconds=row["resolution_remaining_seconds"],
        resolution_paused=row["resolution_paused"],
        now=now,
    )


async def sla_clocks(conn: asyncpg.Connection, case_id: UUID, now: datetime) -> SlaView | None:
    """The case's SLA clocks from the read model (a command's reply renders the rest from the aggregate)."""
    row = await conn.fetchrow(SLA_CLOCKS, case_id)
    return sla_of(row, now) if row is not None else None


async def _agent_details(conn: asyncpg.Connection, row: asyncpg.Record, now: datetime) -> dict[str, Any]:
    """What only agents see of a case: assignee, customer, severity history (names now), SLA clocks."""
    changes: list[dict[str, Any]] = json.loads(row["severity_changes"])
    ids = {UUID(c["changed_by"]) for c in changes} | ({row["assignee_id"]} if row["assignee_id"] else set())
    people = await directory.people(conn, ids)
    assignee = people.get(row["assignee_id"]) if row["assignee_id"] else None

    def name(user_id: str) -> str | None:
        person = people.get(UUID(user_id))
        return person.display_name if person else None

    return {
        "assignee": PersonView(id=assignee.user_id, display_name=assignee.display_name)
        if assignee is not None and assignee.is_current_agent
        else None,
        "customer": CustomerView(id=row["opened_by"], display_name=row["opened_by_name"], email=row["opened_by_email"]),
        "severity_changes": [
            SeverityChangeView(
                from_severity=c["from_severity"],
                to_severity=c["to_severity"],
                prioritised=c["prioritised"],
                reason=c["reason"],
                changed_by_name=name(c["changed_by"]),
                changed_at=datetime.fromisoformat(c["changed_at"]),
            )
            for c in changes
        ],
        "sla": sla_of(row, now) if row["status"] == "open" else None,
    }


async def get_case(conn: asyncpg.Connection, case_id: UUID, viewer: Caller, now: datetime) -> CaseView | None:
    """The case page, or None when it does not exist or the viewer may not see it."""
    row = await conn.fetchrow(CASE_BY_ID, case_id)
    if row is None or (not viewer.is_agent and row["opened_by"] != viewer.user_id):
        return None
    comments = await conn.fetch(COMMENTS, case_id, viewer.is_agent)
    attachments = await conn.fetch(ATTACHMENTS, case_id)
    hidden: dict[str, Any] = {"assignee": None, "customer": None, "severity_changes": [], "sla": None}
    return CaseView(
        **(await _agent_details(conn, row, now) if viewer.is_agent else hidden),
        **summary_fields(row),
        opened_by_email=row["opened_by_email"] if viewer.is_agent else None,
        description=row["description"],
        comments=[
            CommentView(
                id=c["comment_id"],
                author_id=c["author_id"],
                author_name=c["author_name"],
                author_role=c["author_role"],
                body=c["body"],
                internal=c["internal"],
                created_at=c["created_at"],
            )
            for c in comments
        ],
        attachments=[
            AttachmentView(
                id=a["attachment_id"],
                filename=a["filename"],
                size=a["size"],
                content_type=a["content_type"],
                sha256=a["sha256"],
                added_by=a["added_by"],
                added_at=a["added_at"],
            )
            for a in attachments
        ],
    )


async def candidates_estimate(conn: asyncpg.Connection, q: str) -> float:
    """The planner's estimate of how many cases are candidates of the search q (SubjectSearch.candidates)."""
    where = _Where()
    search = where.search(q, exact=False)
    plan = json.loads(await conn.fetchval(CANDIDATES_ESTIMATE.format(candidates=search.candidates), *where.args))
    return float(plan[0]["Plan"]["Plan Rows"])


async def _search(conn: asyncpg.Connection, viewer: Caller, where: _Where, q: str, limit: int
                  ) -> list[asyncpg.Record]:  # fmt: skip
    """Up to limit + 1 summaries the filters of where allow and q matches, newest activity first (see RECENT_WINDOW
    and INDEX_FIRST_MAX)."""
    filters = where.sql
    search = where.search(q)
    args = where.args
    if not viewer.is_agent or await candidates_estimate(conn, q) > INDEX_FIRST_MAX:
        rows = await _recent_matches(conn, filters, search, args, limit)
        if rows is not None:
            return rows
    # The indexes give the candidates; the exact test runs above the OFFSET 0 fence, on them alone (left beside
    # the candidates' condition, the planner may also bitmap-scan the subject's text index for it, which is the
    # prefix cost the candidates avoid).
    condition = f"{filters} AND {search.candidates}" if filters else f"WHERE {search.candidates}"
    candidates = f"SELECT {_SUMMARY_COLUMNS}, subject_tsv FROM case_summaries {condition} OFFSET 0"
    page = f"SELECT {_SUMMARY_COLUMNS} FROM ({candidates}) AS c WHERE {search.exact} {_ORDER} LIMIT {limit + 1}"
    async with conn.transaction(readonly=True):
        await conn.execute(FORCE_TEXT_INDEXES)
        found: list[asyncpg.Record] = await conn.fetch(_named(page), *args)
        return found


async def _recent_matches(
    conn: asyncpg.Connection, filters: str, search: SubjectSearch, args: list[object], limit: int
) -> list[asyncpg.Record] | None:
    """The page from the RECENT_WINDOW newest cases the filters allow (None: the window neither filled the page nor
    held every candidate)."""
    # The window keeps only what the search and the order read; the page's own columns are fetched by key for the
    # few rows that match (a window of whole summaries cost most of a search's time).
    recent = f"""
        WITH recent AS MATERIALIZED (
            SELECT id, last_activity_at, subject, subject_tsv FROM case_summaries {filters} {_ORDER}
            LIMIT {RECENT_WINDOW}
        )
        SELECT seen.n AS scanned, m.* FROM (SELECT count(*) AS n FROM recent) AS seen
        LEFT JOIN LATERAL (
            SELECT {_SUMMARY_COLUMNS} FROM case_summaries
            WHERE id IN (SELECT id FROM recent WHERE {search.exact} {_ORDER} LIMIT {limit + 1})
        ) AS m ON true
    """
    found = await conn.fetch(_named(recent), *args[: len(args) - search.candidates_own_args])
    rows = [r for r in found if r["id"] is not None]
    return rows if len(rows) > limit or found[0]["scanned"] < RECENT_WINDOW else None


async def case_id_by_number(conn: asyncpg.Connection, number: int) -> UUID | None:
    found: UUID | None = await conn.fetchval(CASE_ID_BY_NUMBER, number)
    return found


@dataclass
class _Where:
    """The WHERE clause of a list or count and its parameters."""

    conditions: list[str] = field(default_factory=list)
    args: list[object] = field(default_factory=list)

    def arg(self, value: object) -> str:
        self.args.append(value)
        return f"${len(self.args)}"

    def visible_to(self, viewer: Caller) -> None:
        if not viewer.is_agent:
            self.conditions.append(f"opened_by = {self.arg(viewer.user_id)}")

    def search(self, q: str, *, exact: bool = True) -> SubjectSearch:
        """The subject-search conditions for q (not added to the conditions: the search path places them); without
        exact, only the candidates' (every parameter is one they use: see candidates_estimate)."""
        terms = SearchTerms.parse(q)
        like = f"subject ILIKE {self.arg(terms.like)}" if terms.like else None
        words = prefixes = None
        if terms.tsquery and terms.words:
            if exact:
                words = f"subject_tsv @@ to_tsquery('simple', {self.arg(terms.tsquery)})"
            probe = f"cases_subject_probe({self.arg(terms.words)})"  # the last parameter: see candidates_own_args
            # Every array contains the empty one: words without a lexeme match nothing, as their tsquery does.
            prefixes = f"(cardinality({probe}) > 0 AND cases_subject_prefixes(subject_tsv) @> {probe})"
        return SubjectSearch(words, prefixes, like, candidates_own_args=1 if prefixes else 0)

    @property
    def sql(self) -> str:
        return f"WHERE {' AND '.join(self.conditions)}" if self.conditions else ""


def _searching(q: str | None) -> str | None:
    return q if q is not None and q.strip() else None


async def list_cases(
    conn: asyncpg.Connection,
    viewer: Caller,
    *,
    status: StatusFilter = "all",
    q: str | None = None,
    cursor: str | None = None,
    limit: int = 20,
) -> CasePage:
    """Newest activity first, keyset-paginated on (last_activity_at, id)."""
    where = _Where()
    where.visible_to(viewer)
    if status != "all":
        where.conditions.append(f"status = {where.arg(status)}")
    if cursor is not None:
        at, last_id = decode_cursor(cursor)
        where.conditions.append(f"(last_activity_at, id) < ({where.arg(at)}, {where.arg(last_id)})")
    if (words := _searching(q)) is not None:
        rows = await _search(conn, viewer, where, words, limit)
    else:
        page = f"SELECT {_SUMMARY_COLUMNS} FROM case_summaries {where.sql} {_ORDER} LIMIT {limit + 1}"
        rows = await conn.fetch(_named(page), *where.args)
    items = [summary_view(r) for r in rows[:limit]]
    next_cursor = None
    if len(rows) > limit and items:
        last = items[-1]
        next_cursor = encode_cursor(last.last_activity_at, last.id)
    return CasePage(items=items, next_cursor=next_cursor)


async def count_cases(
    conn: asyncpg.Connection, viewer: Caller, *, q: str | None = None, cap: int = COUNT_CAP
) -> CaseCounts:
    """How many cases the viewer may see: all, open, closed; with q, those whose subject matches (as the list).
    A customer's counts are exact; an agent's stop at cap each (see CaseCounts)."""
    words = _searching(q)
    if viewer.is_agent:
        return await _capped_counts(conn, words, cap)
    where = _Where()
    source, unused = "case_summaries", 0
    if words is not None:
        source = OWN_CASES.format(owner=where.arg(viewer.user_id))
        search = where.search(words)
        where.conditions.append(search.exact)
        unused = search.candidates_own_args
    else:
        where.visible_to(viewer)
    row = await conn.fetchrow(COUNTS.format(source=source, filters=where.sql), *where.args[: len(where.args) - unused])
    assert row is not None
    return CaseCounts(all=row["all"], open=row["open"], closed=row["closed"])


async def _capped_counts(conn: asyncpg.Connection, words: str | None, cap: int) -> CaseCounts:
    """Every case (with words: whose subject matches) counted up to cap (see CAPPED_MATCHES)."""
    if words is None:
        open_, closed = (CAPPED_STATUS.format(status=s, take=cap + 1) for s in ("open", "closed"))
        row = await conn.fetchrow(f"SELECT {open_} AS open, {closed} AS closed")
        assert row is not None
        open_capped, closed_capped = row["open"] > cap, row["closed"] > cap
        open_n, closed_n = min(row["open"], cap), min(row["closed"], cap)
        return CaseCounts(all=open_n + closed_n, open=open_n, closed=closed_n, all_capped=open_capped or closed_capped,
                          open_capped=open_capped, closed_capped=closed_capped)  # fmt: skip
    where = _Where()
    search = where.search(words)
    query = CAPPED_MATCHES.format(cap=cap, take=cap + 1, matches=search.disjoint("status"))
    async with conn.transaction(readonly=True):
        await conn.execute(FORCE_TEXT_INDEXES)
        row = await conn.fetchrow(query, *where.args)
    assert row is not None
    capped = row["seen"] > cap
    return CaseCounts(all=row["open"] + row["closed"], open=row["open"], closed=row["closed"], all_capped=capped,
                      open_capped=capped, closed_capped=capped)  # fmt: skip
