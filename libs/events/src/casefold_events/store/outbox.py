"""Queue messages that are not events of a stored stream (private commands) in the same outbox."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from casefold_events.envelope import Envelope, encode
from casefold_events.store.eventstore import OUTBOX_CHANNEL

ENQUEUE = f"""
    WITH queued AS (
        INSERT INTO outbox (topic, message_key, event_id, event_type, schema_version, traceparent, value)
        SELECT $1, k, i, t, v, tp, val
        FROM unnest($2::text[], $3::uuid[], $4::text[], $5::int[], $6::text[], $7::text[]) AS m(k, i, t, v, tp, val)
        RETURNING 1
    )
    SELECT count(*), pg_notify('{OUTBOX_CHANNEL}', '') FROM queued
"""


async def enqueue(conn: asyncpg.Connection, topic: str, envelopes: Sequence[Envelope]) -> None:
    """Publish envelopes to topic (keyed by stream id) if and when the caller's transaction commits."""
    if not conn.is_in_transaction():
        raise RuntimeError("enqueue() must run inside a transaction")
    await conn.fetchrow(
        ENQUEUE,
        topic,
        [e.stream_id for e in envelopes],
        [e.event_id for e in envelopes],
        [e.event_type for e in envelopes],
        [e.schema_version for e in envelopes],
        [e.traceparent for e in envelopes],
        [encode(e).decode() for e in envelopes],
    )
