-- How far the case events have been applied: the latest occurred_at of any case event the consumer handled. The
-- relay publishes in outbox order, so with the consumer caught up every event older than this (less a grace) is in.
-- An upload is collected only once this has passed its receipt's expiry: a case may reference it until then.
CREATE TABLE case_events_applied (
    singleton   boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    occurred_at timestamptz NOT NULL
);

-- Soft deletion: an upload due for collection is marked first and its bytes go only after the purge grace; a link
-- arriving meanwhile (a consumer that was behind after all) clears the mark.
ALTER TABLE attachments ADD COLUMN collect_after timestamptz;
CREATE INDEX attachments_marked ON attachments (collect_after) WHERE collect_after IS NOT NULL;
