-- Agents' keyword search, one document per case: case_search holds each case's words (subject, description and
-- every comment, internal ones included; English stemming and stop words, positions stripped: the search is an AND
-- of words) beside copies of the columns the queue filters and orders by, so a search's matches are filtered and
-- sorted on this narrow table alone. Only doc is indexed (GIN): the copied columns change by HOT updates, which
-- never touch the GIN index, so an assignment or an SLA change costs no re-indexing of the document; only a comment
-- (new words) re-indexes it. The per-comment and per-summary GIN indexes of 0003 are dropped (nothing reads them).
-- The read model's tables stay defined by one function (the rebuild's shadow tables use it): the version before
-- this migration is kept under its own name and extended, as 0003 did.
ALTER FUNCTION cases_create_read_model(text) RENAME TO cases_create_read_model_before_case_search;

-- The union of two documents' words (a stripped tsvector is a sorted set of lexemes), and its aggregate.
CREATE OR REPLACE FUNCTION cases_search_union(a tsvector, b tsvector) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT strip(a || b) $$;
CREATE OR REPLACE AGGREGATE cases_search_union_agg(tsvector) (
    SFUNC = cases_search_union, STYPE = tsvector, INITCOND = ''
);

-- Keeps case_search's copied columns equal to case_summaries' (any table set: the name is derived from the
-- trigger's table, so the rebuild's shadow tables, renamed at the swap, stay paired). A new summary gets its row
-- with the words of its subject and description; comments add theirs in the projection.
CREATE OR REPLACE FUNCTION cases_search_mirror() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    IF TG_OP = 'INSERT' THEN
        EXECUTE format('INSERT INTO %I (id, doc, status, waiting_on, assignee_id, prioritised, severity, product_id, '
                       'next_deadline_at, opened_at, last_activity_at) '
                       'VALUES ($1, strip($2), $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (id) DO NOTHING',
                       replace(TG_TABLE_NAME, 'case_summaries', 'case_search'))
            USING NEW.id, NEW.search_tsv, NEW.status, NEW.waiting_on, NEW.assignee_id, NEW.prioritised,
                  NEW.severity, NEW.product_id, NEW.next_deadline_at, NEW.opened_at, NEW.last_activity_at;
    ELSE
        EXECUTE format('UPDATE %I SET status = $2, waiting_on = $3, assignee_id = $4, prioritised = $5, '
                       'severity = $6, product_id = $7, next_deadline_at = $8, opened_at = $9, '
                       'last_activity_at = $10 WHERE id = $1',
                       replace(TG_TABLE_NAME, 'case_summaries', 'case_search'))
            USING NEW.id, NEW.status, NEW.waiting_on, NEW.assignee_id, NEW.prioritised, NEW.severity,
                  NEW.product_id, NEW.next_deadline_at, NEW.opened_at, NEW.last_activity_at;
    END IF;
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION cases_create_read_model(suffix text) RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
    s text := 'case_summaries' || suffix;
    c text := 'case_comments' || suffix;
    d text := 'case_search' || suffix;
BEGIN
    PERFORM cases_create_read_model_before_case_search(suffix);
    EXECUTE format('DROP INDEX IF EXISTS %I', s || '_search_fts');
    EXECUTE format('DROP INDEX IF EXISTS %I', c || '_body_fts');
    -- A named agent's (or nobody's) open cases by last activity: the assignee's activity index holds their closed
    -- cases too, years of them, all walked past before the first open one (264 ms at 1,000,000 cases).
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I (assignee_id, status, last_activity_at DESC, id DESC)',
                   s || '_assignee_status_activity', s);
    -- fillfactor: room on each page for the HOT updates of the copied columns
    EXECUTE format($ddl$
        CREATE TABLE IF NOT EXISTS %1$I (
            id               uuid        PRIMARY KEY,
            doc              tsvector    NOT NULL,
            status           text        NOT NULL,
            waiting_on       text,
            assignee_id      uuid,
            prioritised      boolean     NOT NULL,
            severity         smallint    NOT NULL,
            product_id       text        NOT NULL,
            next_deadline_at timestamptz,
            opened_at        timestamptz NOT NULL,
            last_activity_at timestamptz NOT NULL
        ) WITH (fillfactor = 70)$ddl$, d);
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I USING gin (doc)', d || '_doc', d);
    EXECUTE format('CREATE OR REPLACE TRIGGER case_search_mirror_insert AFTER INSERT ON %I '
                   'FOR EACH ROW EXECUTE FUNCTION cases_search_mirror()', s);
    EXECUTE format('CREATE OR REPLACE TRIGGER case_search_mirror_update AFTER UPDATE ON %I FOR EACH ROW '
                   'WHEN ((OLD.status, OLD.waiting_on, OLD.assignee_id, OLD.prioritised, OLD.severity, '
                   'OLD.product_id, OLD.next_deadline_at, OLD.opened_at, OLD.last_activity_at) IS DISTINCT FROM '
                   '(NEW.status, NEW.waiting_on, NEW.assignee_id, NEW.prioritised, NEW.severity, NEW.product_id, '
                   'NEW.next_deadline_at, NEW.opened_at, NEW.last_activity_at)) '
                   'EXECUTE FUNCTION cases_search_mirror()', s);
END
$fn$;

-- case_search from the rows already in a set of read-model tables (this migration, and bulk loads): the same
-- documents the projection builds one event at a time.
CREATE OR REPLACE FUNCTION cases_fill_case_search(suffix text) RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    EXECUTE format($sql$
        INSERT INTO %1$I (id, doc, status, waiting_on, assignee_id, prioritised, severity, product_id,
                          next_deadline_at, opened_at, last_activity_at)
        SELECT s.id, cases_search_union(s.search_tsv, coalesce(c.doc, '')), s.status, s.waiting_on, s.assignee_id,
               s.prioritised, s.severity, s.product_id, s.next_deadline_at, s.opened_at, s.last_activity_at
        FROM %2$I AS s
        LEFT JOIN (SELECT case_id, cases_search_union_agg(body_tsv ORDER BY seq) AS doc FROM %3$I GROUP BY case_id)
            AS c ON c.case_id = s.id
        ON CONFLICT (id) DO NOTHING
    $sql$, 'case_search' || suffix, 'case_summaries' || suffix, 'case_comments' || suffix);
END
$fn$;

-- The swap of 0001, then case_search's.
ALTER FUNCTION cases_swap_read_model() RENAME TO cases_swap_read_model_before_case_search;

CREATE OR REPLACE FUNCTION cases_swap_read_model() RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM cases_swap_read_model_before_case_search();
    DROP TABLE case_search;
    ALTER TABLE case_search_shadow RENAME TO case_search;
    ALTER INDEX case_search_shadow_pkey RENAME TO case_search_pkey;
    ALTER INDEX case_search_shadow_doc RENAME TO case_search_doc;
END
$fn$;

-- The planner's estimate of how many cases match a query (from the GIN column's lexeme statistics): the search
-- chooses its plan by it (adapters/queue.py).
CREATE OR REPLACE FUNCTION cases_search_estimate(q tsquery) RETURNS bigint LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
    plan json;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) SELECT 1 FROM case_search WHERE doc @@ $1' INTO plan USING q;
    RETURN (plan -> 0 -> 'Plan' ->> 'Plan Rows')::bigint;
END
$fn$;

SELECT cases_create_read_model('');
SELECT cases_fill_case_search('');
ANALYZE case_search;
