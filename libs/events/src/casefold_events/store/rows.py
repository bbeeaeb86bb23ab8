"""Mapping between event-store rows and envelopes (one place for the column list)."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from casefold_events.envelope import Actor, Envelope

COLUMNS = (
    "event_id, event_type, schema_version, stream_id, stream_type, stream_version, occurred_at, "
    "actor_id, actor_role, correlation_id, causation_id, traceparent, payload::text AS payload"
)


def envelope_from_row(row: asyncpg.Record) -> Envelope:
    # Rows come from our own store, already validated on the way in: construct without re-validating.
    return Envelope.model_construct(
        event_id=row["event_id"],
        event_type=row["event_type"],
        schema_version=row["schema_version"],
        stream_id=row["stream_id"],
        stream_type=row["stream_type"],
        stream_version=row["stream_version"],
        occurred_at=row["occurred_at"],
        actor=Actor.model_construct(user_id=row["actor_id"], role=row["actor_role"]),
        correlation_id=row["correlation_id"],
        causation_id=row["causation_id"],
        traceparent=row["traceparent"],
        payload=json.loads(row["payload"]),
    )


def envelope_arrays(envelopes: list[Envelope], payloads: list[str]) -> tuple[list[Any], ...]:
    """Column arrays for an INSERT ... SELECT FROM unnest(...): one round trip whatever the batch size.

    payloads are the events' JSON texts (pydantic's serializer is several times faster than json.dumps).
    """
    return (
        [e.event_id for e in envelopes],
        [e.event_type for e in envelopes],
        [e.schema_version for e in envelopes],
        [e.stream_version for e in envelopes],
        [e.occurred_at for e in envelopes],
        [e.actor.user_id for e in envelopes],
        [e.actor.role for e in envelopes],
        [e.correlation_id for e in envelopes],
        [e.causation_id for e in envelopes],
        [e.traceparent for e in envelopes],
        payloads,
    )
