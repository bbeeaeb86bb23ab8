"""Queries over the read model: one case with its comments and attachments, and pages of case summaries."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from uuid import UUID

import asyncpg

from cases.adapters.cursor import decode_cursor, encode_cursor
from cases.app.views import (
    AttachmentView,
    CasePage,
    CaseSummaryView,
    CaseView,
    CommentView,
    ProductView,
    Viewer,
    format_number,
)

StatusFilter = Literal["all", "open", "closed"]

_SUMMARY_COLUMNS = (
    "id, number, product_id, product_name, subject, severity, prioritised, status, opened_by, opened_at, "
    "closed_at, last_activity_at, version"
)
CASE_BY_ID = f"SELECT {_SUMMARY_COLUMNS}, description FROM case_summaries WHERE id = $1"
CASE_ID_BY_NUMBER = "SELECT id FROM case_summaries WHERE number = $1"
COMMENTS = """
    SELECT comment_id, author_id, author_role, body, internal, created_at FROM case_comments
    WHERE case_id = $1 AND (internal = false OR $2) ORDER BY seq
"""
ATTACHMENTS = """
    SELECT attachment_id, filename, size, content_type, sha256, added_by, added_at FROM case_attachments
    WHERE case_id = $1 ORDER BY seq
"""

# Words for the full-text branch: letters and digits only, so a tsquery can never be malformed.
_WORD = re.compile(r"\w+")
_MAX_WORDS = 16
# Shorter fragments cannot use the trigram index and would scan every subject.
MIN_PARTIAL_LENGTH = 3
# A search matching fewer rows than this is answered from the text indexes (bitmap) and sorted; a denser one by
# walking the activity index and filtering, which finds a page within a few thousand rows. Left to itself the
# planner walks the activity index for rare words too, and reads the whole table to find nothing (seconds at 1M).
SELECTIVE_SEARCH = 2000
FORCE_TEXT_INDEXES = (
    "SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off; SET LOCAL enable_indexonlyscan = off"
)


@dataclass(frozen=True)
class SearchTerms:
    tsquery: str | None
    like: str | None

    @classmethod
    def parse(cls, q: str) -> SearchTerms:
        """Every word as a prefix (AND), plus the whole text as a substring for partial words."""
        words = _WORD.findall(q.casefold())[:_MAX_WORDS]
        tsquery = " & ".join(f"{w}:*" for w in words) or None
        text = q.strip()
        like = None
        if len(text) >= MIN_PARTIAL_LENGTH:
            escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            like = f"%{escaped}%"
        return cls(tsquery, like)


def _summary(row: asyncpg.Record) -> CaseSummaryView:
    return CaseSummaryView(
        id=row["id"],
        number=format_number(row["number"]),
        product=ProductView(id=row["product_id"], name=row["product_name"]),
        subject=row["subject"],
        severity=row["severity"],
        prioritised=row["prioritised"],
        status=row["status"],
        opened_by=row["opened_by"],
        opened_at=row["opened_at"],
        closed_at=row["closed_at"],
        last_activity_at=row["last_activity_at"],
        version=row["version"],
    )


async def get_case(conn: asyncpg.Connection, case_id: UUID, viewer: Viewer) -> CaseView | None:
    """The case page, or None when it does not exist or the viewer may not see it."""
    row = await conn.fetchrow(CASE_BY_ID, case_id)
    if row is None or (not viewer.is_agent and row["opened_by"] != viewer.user_id):
        return None
    comments = await conn.fetch(COMMENTS, case_id, viewer.is_agent)
    attachments = await conn.fetch(ATTACHMENTS, case_id)
    summary = _summary(row)
    return CaseView(
        **summary.model_dump(exclude={"product"}),
        product=summary.product,
        description=row["description"],
        comments=[
            CommentView(
                id=c["comment_id"],
                author_id=c["author_id"],
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


async def _selective_search(
    conn: asyncpg.Connection, where: str, filter_args: list[object], sql: str, args: list[object]
) -> list[asyncpg.Record] | None:
    """The page from the text indexes when the search is selective; None when it is dense (see SELECTIVE_SEARCH)."""
    probe = f"SELECT count(*) FROM (SELECT 1 FROM case_summaries {where} LIMIT {SELECTIVE_SEARCH}) AS hits"
    async with conn.transaction(readonly=True):
        await conn.execute(FORCE_TEXT_INDEXES)
        if await conn.fetchval(probe, *filter_args) >= SELECTIVE_SEARCH:
            return None
        rows: list[asyncpg.Record] = await conn.fetch(sql, *args)
        return rows


async def case_id_by_number(conn: asyncpg.Connection, number: int) -> UUID | None:
    found: UUID | None = await conn.fetchval(CASE_ID_BY_NUMBER, number)
    return found


async def list_cases(
    conn: asyncpg.Connection,
    viewer: Viewer,
    *,
    status: StatusFilter = "all",
    q: str | None = None,
    cursor: str | None = None,
    limit: int = 20,
) -> CasePage:
    """Newest activity first, keyset-paginated on (last_activity_at, id)."""
    conditions: list[str] = []
    args: list[object] = []

    def arg(value: object) -> str:
        args.append(value)
        return f"${len(args)}"

    if not viewer.is_agent:
        conditions.append(f"opened_by = {arg(viewer.user_id)}")
    if status != "all":
        conditions.append(f"status = {arg(status)}")
    if q is not None and q.strip():
        terms = SearchTerms.parse(q)
        branches = []
        if terms.tsquery:
            branches.append(f"subject_tsv @@ to_tsquery('simple', {arg(terms.tsquery)})")
        if terms.like:
            branches.append(f"subject ILIKE {arg(terms.like)}")
        conditions.append("(" + (" OR ".join(branches) or "false") + ")")
    if cursor is not None:
        at, last_id = decode_cursor(cursor)
        conditions.append(f"(last_activity_at, id) < ({arg(at)}, {arg(last_id)})")
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    filter_args = list(args)
    sql = (
        f"SELECT {_SUMMARY_COLUMNS} FROM case_summaries {where} "
        f"ORDER BY last_activity_at DESC, id DESC LIMIT {arg(limit + 1)}"
    )
    rows = None
    if q is not None and q.strip():
        rows = await _selective_search(conn, where, filter_args, sql, args)
    if rows is None:
        rows = await conn.fetch(sql, *args)
    items = [_summary(r) for r in rows[:limit]]
    next_cursor = None
    if len(rows) > limit and items:
        last = items[-1]
        next_cursor = encode_cursor(last.last_activity_at, last.id)
    return CasePage(items=items, next_cursor=next_cursor)
