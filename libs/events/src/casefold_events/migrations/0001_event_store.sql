-- The append-only event store. One row per event; (stream_id, stream_version) unique is the optimistic
-- concurrency guard. tx_id (the writing transaction's id) makes the global read gap-safe: see store/reader.py.
CREATE TABLE IF NOT EXISTS events (
    global_position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tx_id           xid8        NOT NULL DEFAULT pg_current_xact_id(),
    event_id        uuid        NOT NULL UNIQUE,
    stream_id       text        NOT NULL,
    stream_type     text        NOT NULL,
    stream_version  integer     NOT NULL CHECK (stream_version > 0),
    event_type      text        NOT NULL,
    schema_version  integer     NOT NULL,
    occurred_at     timestamptz NOT NULL,
    actor_id        uuid,
    actor_role      text        NOT NULL,
    correlation_id  uuid,
    causation_id    uuid,
    traceparent     text,
    payload         jsonb       NOT NULL,
    CONSTRAINT events_stream_version_unique UNIQUE (stream_id, stream_version)
);

CREATE INDEX IF NOT EXISTS events_global_order ON events (tx_id, global_position);

CREATE TABLE IF NOT EXISTS snapshots (
    stream_id        text        PRIMARY KEY,
    stream_type      text        NOT NULL,
    stream_version   integer     NOT NULL,
    snapshot_version integer     NOT NULL,
    state            jsonb       NOT NULL,
    taken_at         timestamptz NOT NULL DEFAULT now()
);
