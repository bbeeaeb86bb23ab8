"""Mapping between event-store rows and envelopes (one place for the column list)."""

from __future__ import annotations

import json

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
