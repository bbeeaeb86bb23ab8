-- Outbox rows of stored events no longer copy the event: the relay reads it from the events table when it
-- publishes (half the bytes written per append). Rows queued with enqueue() (private commands) keep a value.
ALTER TABLE outbox ALTER COLUMN value DROP NOT NULL;
