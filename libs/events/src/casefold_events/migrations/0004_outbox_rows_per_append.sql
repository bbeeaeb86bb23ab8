-- One outbox row per append (a slice of one stream: first_version..last_version), not one per event: a 100-event
-- append writes one outbox row. The relay publishes the slice's events in version order. Rows queued with
-- enqueue() (private commands, no stream) still carry their own value and ids.
ALTER TABLE outbox
    ADD COLUMN stream_id     text,
    ADD COLUMN first_version integer,
    ADD COLUMN last_version  integer,
    ALTER COLUMN event_id DROP NOT NULL,
    ALTER COLUMN event_type DROP NOT NULL,
    ALTER COLUMN schema_version DROP NOT NULL,
    ADD CONSTRAINT outbox_message_or_slice CHECK (
        (value IS NOT NULL AND event_id IS NOT NULL AND event_type IS NOT NULL AND schema_version IS NOT NULL)
        OR (stream_id IS NOT NULL AND first_version IS NOT NULL AND last_version >= first_version)
    );
