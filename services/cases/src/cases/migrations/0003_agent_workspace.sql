-- The agent workspace: waiting state, assignee, severity history, SLA columns (filled by the SLA projection), the
-- agent keyword search and the queue's indexes. The read model's tables stay defined in one function (the rebuild
-- makes shadow tables with it): the first version is kept under a new name and extended here.
ALTER FUNCTION cases_create_read_model(text) RENAME TO cases_create_read_model_v1;

CREATE OR REPLACE FUNCTION cases_create_read_model(suffix text) RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
    s text := 'case_summaries' || suffix;
    c text := 'case_comments' || suffix;
BEGIN
    PERFORM cases_create_read_model_v1(suffix);
    EXECUTE format($ddl$
        ALTER TABLE %1$I
            ADD COLUMN IF NOT EXISTS waiting_on text CHECK (waiting_on IN ('support', 'customer')),
            ADD COLUMN IF NOT EXISTS assignee_id uuid,
            -- [{from_severity, to_severity, prioritised, reason, changed_by, changed_at}] in order; a handful per case
            ADD COLUMN IF NOT EXISTS severity_changes jsonb NOT NULL DEFAULT '[]',
            -- SLA clocks: written by the SLA projection, null until it has
            ADD COLUMN IF NOT EXISTS first_response_due_at timestamptz,
            ADD COLUMN IF NOT EXISTS first_responded_at timestamptz,
            ADD COLUMN IF NOT EXISTS resolution_due_at timestamptz,
            ADD COLUMN IF NOT EXISTS resolution_remaining_seconds integer,
            ADD COLUMN IF NOT EXISTS resolution_paused boolean NOT NULL DEFAULT false,
            -- the earliest running deadline (the queue's urgency and breach filters)
            ADD COLUMN IF NOT EXISTS next_deadline_at timestamptz,
            -- agents' keyword search: English stemming and stop words, so that a common word is not a query over
            -- every case and "crashes" finds "crash"
            ADD COLUMN IF NOT EXISTS search_tsv tsvector
                GENERATED ALWAYS AS (to_tsvector('english', subject || ' ' || description)) STORED
        $ddl$, s);
    EXECUTE format('ALTER TABLE %I ADD COLUMN IF NOT EXISTS body_tsv tsvector '
                   'GENERATED ALWAYS AS (to_tsvector(''english'', body)) STORED', c);

    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I USING gin (search_tsv)', s || '_search_fts', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I USING gin (body_tsv)', c || '_body_fts', c);
    -- Urgency order in one ascending key (prioritised first, earliest deadline, no deadline last, most severe,
    -- oldest), so that a keyset cursor is a plain row comparison the index serves.
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I ((NOT prioritised), (coalesce(next_deadline_at, '
                   '''infinity''::timestamptz)), severity, opened_at, id) WHERE status = ''open''',
                   s || '_open_urgency', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I (waiting_on, (NOT prioritised), (coalesce(next_deadline_at, '
                   '''infinity''::timestamptz)), severity, opened_at, id) WHERE status = ''open''',
                   s || '_waiting_urgency', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I (assignee_id, (NOT prioritised), (coalesce(next_deadline_at, '
                   '''infinity''::timestamptz)), severity, opened_at, id) WHERE status = ''open''',
                   s || '_assignee_urgency', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I (assignee_id, last_activity_at DESC, id DESC)',
                   s || '_assignee_activity', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I (waiting_on, last_activity_at DESC, id DESC)',
                   s || '_waiting_activity', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I (next_deadline_at) WHERE status = ''open''',
                   s || '_open_deadline', s);
END
$fn$;

SELECT cases_create_read_model('');

-- Cases opened before this migration wait on support (closed ones wait on nobody).
UPDATE case_summaries SET waiting_on = 'support' WHERE status = 'open' AND waiting_on IS NULL;

-- The assignee menu and the "revoked agent shows as unassigned" check read the few agents, not every user.
CREATE INDEX IF NOT EXISTS users_agents ON users (id) WHERE role IN ('agent', 'admin');
