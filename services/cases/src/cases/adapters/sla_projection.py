"""The SLA columns of the read model: a fold of each touched case's events under the policy, in the transaction
of the projection that touched it (inline, and in the rebuild into the shadow tables).

The whole stream of SLA-relevant events is folded each time (a handful per case), never an increment, so a replay
that sees an event twice, or out of batch order, still ends with the deadlines of the full history.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import asyncpg

from casefold_events.contracts import CommentAdded, Event, registry
from casefold_events.contracts.base import JsonLoader
from casefold_events.envelope import EventRecord
from cases.domain.sla import AGENT_ROLES, SlaHistory, SlaPolicy, evaluate

# The events SlaHistory.observe folds; any other type cannot move a deadline. Of the comments only the first public
# reply of an agent counts (it stops the first-response clock), so only that one is read: a long conversation
# does not make every later command fold all of its comments again.
SLA_EVENT_TYPES = frozenset({
    "CaseOpened", "WaitingStateChanged", "SeverityChanged", "CaseAssigned", "CaseClosed", "SlaWarning", "SlaBreached",
})  # fmt: skip
READ_SLA_EVENTS = """
    SELECT stream_id, stream_version, occurred_at, event_type, schema_version, payload::text AS payload FROM events
    WHERE stream_id = ANY($1::text[]) AND event_type = ANY($2::text[])
    UNION ALL
    (SELECT DISTINCT ON (stream_id) stream_id, stream_version, occurred_at, event_type, schema_version,
            payload::text AS payload
     FROM events
     WHERE stream_id = ANY($1::text[]) AND event_type = 'CommentAdded'
       AND payload->>'author_role' IN ('agent', 'admin') AND payload->>'internal' = 'false'
     ORDER BY stream_id, stream_version)
    ORDER BY stream_id, stream_version
"""


def moves_clocks(envelope: EventRecord) -> bool:
    """Whether this event can change a case's SLA columns (a comment only if it is a public reply of an agent)."""
    if envelope.event_type == "CommentAdded":
        comment = envelope.event()
        return isinstance(comment, CommentAdded) and comment.author_role in AGENT_ROLES and not comment.internal
    return envelope.event_type in SLA_EVENT_TYPES


def _update(summaries: str) -> str:
    return f"""
        UPDATE {summaries} SET first_response_due_at = $2, first_responded_at = $3, resolution_due_at = $4,
            resolution_remaining_seconds = $5, resolution_paused = $6, next_deadline_at = $7, sla_check_at = $8
        WHERE id = $1::uuid
    """


async def histories(conn: asyncpg.Connection, case_ids: Iterable[str]) -> dict[str, SlaHistory]:
    """The SLA history of each case, folded from its stored events."""
    ids = sorted(set(case_ids))
    if not ids:
        return {}
    rows = await conn.fetch(READ_SLA_EVENTS, ids, sorted(SLA_EVENT_TYPES))
    loaders: dict[tuple[str, int], JsonLoader] = {}
    events: dict[str, list[tuple[datetime, Event]]] = defaultdict(list)
    for stream_id, _, occurred_at, event_type, schema_version, payload in rows:
        load = loaders.get((event_type, schema_version))
        if load is None:
            load = loaders[event_type, schema_version] = registry.json_loader(event_type, schema_version)
        events[stream_id].append((occurred_at, load(payload)))
    return {stream_id: SlaHistory.of(folded) for stream_id, folded in events.items()}


def columns(history: SlaHistory, policy: SlaPolicy) -> tuple[Any, ...]:
    """The SLA column values (after id) of case_summaries for this history."""
    clocks = evaluate(history, policy)
    if clocks is None:
        return (None, None, None, None, False, None, None)
    first, resolution = clocks.first_response, clocks.resolution
    if clocks.closed:
        # A closed case keeps when its clocks were due and answered (for reports); nothing runs or is watched.
        return (first.due_at, history.first_response_at, resolution.due_at, None, False, None, None)
    remaining = resolution.paused_remaining if resolution.paused else None
    return (
        first.due_at,
        history.first_response_at,
        resolution.due_at,
        int(remaining.total_seconds()) if remaining is not None else None,
        resolution.paused,
        clocks.next_deadline_at,
        clocks.next_check_at,
    )


def _begun_here(envelopes: Sequence[EventRecord]) -> dict[str, SlaHistory]:
    """The SLA history of each stream whose whole history is in this batch (from version 1, no comment: exactly
    the rows READ_SLA_EVENTS would return): a new case is folded from what was just appended, not read back."""
    streams: dict[str, list[EventRecord]] = defaultdict(list)
    for envelope in envelopes:
        streams[envelope.stream_id].append(envelope)
    return {
        stream_id: SlaHistory.of([(e.occurred_at, e.event()) for e in own])
        for stream_id, own in streams.items()
        if [e.stream_version for e in own] == list(range(1, len(own) + 1))
        and all(e.event_type in SLA_EVENT_TYPES for e in own)
    }


async def refresh(
    conn: asyncpg.Connection,
    case_ids: Iterable[str],
    policy: SlaPolicy,
    summaries: str,
    envelopes: Sequence[EventRecord] = (),
) -> None:
    """Recompute and write the SLA columns of these cases (envelopes: the batch that touched them, if at hand)."""
    case_ids = set(case_ids)
    if not case_ids:  # most comments move no clock: no round trip for nothing
        return
    known = {cid: h for cid, h in _begun_here(envelopes).items() if cid in case_ids}
    folded = known | await histories(conn, case_ids - known.keys())
    update = _update(summaries)
    await conn.executemany(update, [(cid, *columns(h, policy)) for cid, h in folded.items()])
