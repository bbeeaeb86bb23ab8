-- The SLA worker's schedule: sla_check_at is when the case's next SLA signal (a warning at 80% of a target, or a
-- breach) falls due, null when no running clock has one left. The worker reads the few rows whose moment has come
-- through the partial index, so an idle queue of a million cases costs it one index probe.
-- The read model's tables stay defined by one function (the rebuild's shadow tables use it): the version before
-- this migration is kept under its own name and extended, as 0003 did.
ALTER FUNCTION cases_create_read_model(text) RENAME TO cases_create_read_model_before_sla;

CREATE OR REPLACE FUNCTION cases_create_read_model(suffix text) RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
    s text := 'case_summaries' || suffix;
BEGIN
    PERFORM cases_create_read_model_before_sla(suffix);
    EXECUTE format('ALTER TABLE %I ADD COLUMN IF NOT EXISTS sla_check_at timestamptz', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I (sla_check_at) WHERE sla_check_at IS NOT NULL',
                   s || '_sla_check', s);
END
$fn$;

SELECT cases_create_read_model('');

-- "Now" of the controllable clock (CASES_CONTROLLABLE_CLOCK, tests and the browser system only): one row shared by
-- the API and worker processes; now = the real time + offset_seconds. Unused (and empty) otherwise.
CREATE TABLE IF NOT EXISTS sla_clock (
    id             boolean PRIMARY KEY DEFAULT true CHECK (id),
    offset_seconds bigint  NOT NULL DEFAULT 0 CHECK (offset_seconds >= 0)
);
