-- The queue's urgency index, measured at 1,000,000 cases: led by status, so that closed cases page in urgency order
-- too (the open-only index left status=closed to a sort of 300,000 rows), and the prioritised filter is its next
-- column. The read model's tables stay defined by one function (the rebuild's shadow tables use it): the version
-- before this migration is kept under its own name and extended, as 0003 did.
ALTER FUNCTION cases_create_read_model(text) RENAME TO cases_create_read_model_before_queue_indexes;

CREATE OR REPLACE FUNCTION cases_create_read_model(suffix text) RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
    s text := 'case_summaries' || suffix;
BEGIN
    PERFORM cases_create_read_model_before_queue_indexes(suffix);
    EXECUTE format('DROP INDEX IF EXISTS %I', s || '_open_urgency');
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I (status, (NOT prioritised), (coalesce(next_deadline_at, '
                   '''infinity''::timestamptz)), severity, opened_at, id)', s || '_status_urgency', s);
END
$fn$;

SELECT cases_create_read_model('');
