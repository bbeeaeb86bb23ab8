"""The read-model projection: folds case events into case_summaries / case_comments / case_attachments (and the
agents' search documents, case_search: a trigger copies the summary's columns, a comment adds its words).

Used inline (in the append transaction, so a customer reads what was just written) and by the rebuild (into the
shadow tables). Every statement is idempotent (inserts ignore duplicates, updates only move a row forward), so a
rebuild's catch-up may see an event twice without harm.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

import asyncpg

from casefold_events import locks, writes
from casefold_events.contracts import (
    AttachmentAdded,
    AttachmentRef,
    CaseAssigned,
    CaseClosed,
    CaseOpened,
    CommentAdded,
    SeverityChanged,
    SlaBreached,
    SlaWarning,
    WaitingStateChanged,
)
from casefold_events.envelope import EventRecord
from casefold_events.writes import Write, Writes
from cases.adapters import sla_projection
from cases.domain.model import STREAM_TYPE
from cases.domain.sla import SlaHistory, SlaPolicy

# Command transactions hold this lock shared from their first statement; the rebuild takes it exclusively for its
# final catch-up and swap, so that no event can commit unseen between the two.
WRITERS_LOCK = locks.CASES_READ_MODEL_WRITERS.key
HOLD_WRITER_LOCK = f"SELECT pg_advisory_xact_lock_shared({WRITERS_LOCK})"
TAKE_EXCLUSIVE_WRITER_LOCK = f"SELECT pg_advisory_xact_lock({WRITERS_LOCK})"

# Attachments listed on CaseOpened come first, in their order; later ones by stream version.
_ATTACHMENT_SEQ_STRIDE = 1000


@dataclass(frozen=True)
class Tables:
    """The names of one set of read-model tables ('' = live, '_shadow' = being rebuilt)."""

    suffix: str = ""

    @property
    def summaries(self) -> str:
        return f"case_summaries{self.suffix}"

    @property
    def comments(self) -> str:
        return f"case_comments{self.suffix}"

    @property
    def attachments(self) -> str:
        return f"case_attachments{self.suffix}"

    @cached_property
    def insert_summary(self) -> str:
        return f"""
            INSERT INTO {self.summaries} (id, number, product_id, product_name, subject, description, severity,
                prioritised, priority_rule, status, opened_by, opened_at, last_activity_at, version, waiting_on,
                first_response_due_at, first_responded_at, resolution_due_at, resolution_remaining_seconds,
                resolution_paused, next_deadline_at, sla_check_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'open', $10, $11, $11, $12, 'support',
                    $13, $14, $15, $16, $17, $18, $19)
            ON CONFLICT (id) DO NOTHING
        """

    @cached_property
    def touch_summary(self) -> str:
        return f"""
            UPDATE {self.summaries} SET last_activity_at = $2, version = $3
            WHERE id = $1 AND version < $3
        """

    @cached_property
    def close_summary(self) -> str:
        return f"""
            UPDATE {self.summaries} SET status = 'closed', closed_at = $2, last_activity_at = $2, version = $3,
                waiting_on = NULL
            WHERE id = $1 AND version < $3
        """

    @cached_property
    def bump_version(self) -> str:
        # SLA signals are neither activity nor visible to customers; the SLA columns move in sla_projection.
        return f"UPDATE {self.summaries} SET version = $2 WHERE id = $1 AND version < $2"

    @cached_property
    def assign_summary(self) -> str:
        # Not activity: the customer never sees who is assigned, so their list must not move either.
        return f"""
            UPDATE {self.summaries} SET assignee_id = $2, version = $3
            WHERE id = $1 AND version < $3
        """

    @cached_property
    def wait_summary(self) -> str:
        return f"""
            UPDATE {self.summaries} SET waiting_on = $2, last_activity_at = $3, version = $4
            WHERE id = $1 AND version < $4
        """

    @cached_property
    def severity_summary(self) -> str:
        return f"""
            UPDATE {self.summaries} SET severity = $2, prioritised = $3,
                severity_changes = severity_changes || jsonb_build_array($4::jsonb),
                last_activity_at = $5, version = $6
            WHERE id = $1 AND version < $6
        """

    @property
    def search(self) -> str:
        return f"case_search{self.suffix}"

    @cached_property
    def insert_comment(self) -> tuple[tuple[str, str], ...]:
        # The comment's words join its case's search document (migration 0006) in the same statement, once: a
        # comment seen again (a rebuild's catch-up) inserts nothing and adds nothing. The summary's activity moves
        # in the same statement too (touch_summary's update; $3 is the stream version, $8 the time): the tables
        # differ, and the mirror trigger on the summary runs after the statement, on the updated search row.
        # A composition's CTEs (casefold_events.writes): alone, or riding with the command's append.
        return (
            ("comment_added", f"""
                INSERT INTO {self.comments} (case_id, comment_id, seq, author_id, author_role, body, internal,
                                             created_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                ON CONFLICT (case_id, seq) DO NOTHING
                RETURNING case_id, body_tsv
            """),
            ("comment_touched", f"""
                UPDATE {self.summaries} SET last_activity_at = $8, version = $3 WHERE id = $1 AND version < $3
            """),
            ("comment_words", f"""
                UPDATE {self.search} AS d SET doc = cases_search_union(d.doc, comment_added.body_tsv)
                FROM comment_added WHERE d.id = comment_added.case_id
            """),
        )  # fmt: skip

    @cached_property
    def insert_attachments(self) -> str:
        return f"""
            INSERT INTO {self.attachments} (case_id, attachment_id, seq, filename, size, content_type, sha256,
                added_by, added_by_role, added_at)
            SELECT $1, a.id, a.seq, a.filename, a.size, a.content_type, a.sha256, $2, $3, $4
            FROM unnest($5::uuid[], $6::int[], $7::text[], $8::bigint[], $9::text[], $10::text[])
                AS a(id, seq, filename, size, content_type, sha256)
            ON CONFLICT (case_id, attachment_id) DO NOTHING
        """


LIVE = Tables()
SHADOW = Tables("_shadow")


async def hold_writer_lock(conn: asyncpg.Connection) -> None:
    """First statement of every command transaction (see WRITERS_LOCK)."""
    await conn.execute(HOLD_WRITER_LOCK)


async def project(
    conn: asyncpg.Connection,
    envelopes: Sequence[EventRecord],
    tables: Tables = LIVE,
    *,
    sla: SlaPolicy,
    defer: Writes | None = None,
) -> None:
    """Apply case events to the read model, in stream order; then the SLA columns of the cases whose clocks moved.

    A case opened by this batch alone (the open-case command) is inserted with its SLA columns, folded from its one
    event: the same values the refresh would write a statement later.

    defer: the command's writes still to be sent (casefold_events.writes). A batch of one event that moves no SLA
    clock (an open case, a customer's comment) rides with them: one statement writes a row once. Anything else
    flushes them first and runs as before (several events may write one summary row; the SLA refresh reads the
    stored events).
    """
    if len(envelopes) == 1 and envelopes[0].stream_version == 1 and envelopes[0].stream_type == STREAM_TYPE:
        opened = envelopes[0].event()
        if isinstance(opened, CaseOpened):
            clocks = sla_projection.columns(SlaHistory.of([(envelopes[0].occurred_at, opened)]), sla)
            await _insert_summary(conn, envelopes[0], opened, tables, clocks, defer)
            return
    if (
        len(envelopes) == 1
        and envelopes[0].event_type == "CommentAdded"
        and not sla_projection.moves_clocks(envelopes[0])
    ):
        await _project_one(conn, envelopes[0], tables, defer)
        return
    if defer is not None:
        await defer.flush(conn)
    touched: set[str] = set()
    for envelope in envelopes:
        if envelope.stream_type != STREAM_TYPE:
            continue
        await _project_one(conn, envelope, tables)
        if sla_projection.moves_clocks(envelope):
            touched.add(envelope.stream_id)
    await sla_projection.refresh(conn, touched, sla, tables.summaries, envelopes)


# The SLA columns of a summary that the refresh fills in after the events of its batch.
_CLOCKS_LATER = (None, None, None, None, False, None, None)


async def _insert_summary(
    conn: asyncpg.Connection,
    envelope: EventRecord,
    event: CaseOpened,
    t: Tables,
    clocks: tuple[object, ...],
    defer: Writes | None = None,
) -> None:
    at, version = envelope.occurred_at, envelope.stream_version
    args = (event.case_id, event.number, event.product_id, event.product_name, event.subject, event.description,
            event.severity, event.prioritised, event.priority_rule, event.opened_by, at, version, *clocks)  # fmt: skip
    await writes.run(conn, Write(ctes=(("summary_opened", t.insert_summary),), args=args), defer)
    await _insert_attachments(conn, t, event.case_id, event.attachments, event.opened_by, event.opened_by_role,
                              at, version, defer)  # fmt: skip


async def _project_one(conn: asyncpg.Connection, envelope: EventRecord, t: Tables, defer: Writes | None = None) -> None:
    event = envelope.event()
    at, version = envelope.occurred_at, envelope.stream_version
    if isinstance(event, CaseOpened):
        await _insert_summary(conn, envelope, event, t, _CLOCKS_LATER)
    elif isinstance(event, CommentAdded):
        args = (event.case_id, event.comment_id, version, event.author_id, event.author_role, event.body,
                event.internal, at)  # fmt: skip
        await writes.run(conn, Write(ctes=t.insert_comment, args=args), defer)
    elif isinstance(event, AttachmentAdded):
        await _insert_attachments(conn, t, event.case_id, (event.attachment,), event.added_by, event.added_by_role,
                                  at, version)  # fmt: skip
        await conn.execute(t.touch_summary, event.case_id, at, version)
    elif isinstance(event, CaseClosed):
        await conn.execute(t.close_summary, event.case_id, at, version)
    elif isinstance(event, SlaWarning | SlaBreached):
        await conn.execute(t.bump_version, event.case_id, version)
    elif isinstance(event, CaseAssigned):
        await conn.execute(t.assign_summary, event.case_id, event.assignee_id, version)
    elif isinstance(event, WaitingStateChanged):
        await conn.execute(t.wait_summary, event.case_id, event.waiting_on, at, version)
    elif isinstance(event, SeverityChanged):
        change = severity_change_record(event, at)
        await conn.execute(t.severity_summary, event.case_id, event.to_severity, event.prioritised,
                           json.dumps(change), at, version)  # fmt: skip


def severity_change_record(event: SeverityChanged, at: datetime) -> dict[str, object]:
    """One entry of case_summaries.severity_changes (the changer's name is joined at read time)."""
    return {
        "from_severity": event.from_severity,
        "to_severity": event.to_severity,
        "prioritised": event.prioritised,
        "reason": event.reason,
        "changed_by": str(event.changed_by),
        "changed_at": at.isoformat(),
    }


async def _insert_attachments(
    conn: asyncpg.Connection,
    t: Tables,
    case_id: object,
    refs: Sequence[AttachmentRef],
    added_by: object,
    role: str,
    at: datetime,
    version: int,
    defer: Writes | None = None,
) -> None:
    if not refs:
        return
    args = (case_id, added_by, role, at, [r.attachment_id for r in refs],
            [version * _ATTACHMENT_SEQ_STRIDE + i for i in range(len(refs))], [r.filename for r in refs],
            [r.size for r in refs], [r.content_type for r in refs], [r.sha256 for r in refs])  # fmt: skip
    await writes.run(conn, Write(ctes=(("attachments_added", t.insert_attachments),), args=args), defer)
