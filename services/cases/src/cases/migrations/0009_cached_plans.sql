-- The functions of 0006 and 0008 without planning at every call. A LANGUAGE sql function that cannot be inlined
-- (these have a FROM) is planned again at every call, and so is a PL/pgSQL EXECUTE of a formatted string:
-- pg_stat_statements under `bench http` put the subject prefixes' planning at 70-86 us a call (beside 47-63 us of
-- execution) and the mirror trigger's INSERT / UPDATE into case_search at 31 / 67 us, on every command (opening a
-- case writes a summary, every event changes it). The same SELECT in PL/pgSQL is planned at every call as well
-- (its custom plan, for an array of known length, always looks cheaper than the generic one), so the subject
-- functions become loops, and the mirror's statements become static ones, which PL/pgSQL plans once per session.
--
-- The subject functions give the keys they gave, each once, in the words' order instead of sorted: a GIN index over
-- an array keeps the set of its elements, and @> compares sets, so the prefix index built by 0008 stays valid and
-- nothing is rebuilt. The mirror names case_search when the trigger fires on case_summaries; the rebuild's shadow
-- tables (case_summaries_shadow, until the swap renames it) keep the formatted statements of 0006. A static
-- statement's plan names its table, and PostgreSQL plans it again after that table is renamed or dropped, so the
-- swap's renames leave every session writing to the new case_search.

-- Every prefix (1 to 10 characters) of every word, once: the words come sorted (a tsvector's lexemes, byte order),
-- so a prefix shared with an earlier word is shared with the word just before, and only that one is compared.
CREATE OR REPLACE FUNCTION cases_subject_prefixes(words tsvector) RETURNS text[]
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    keys text[] := '{}';
    k int := 0;
    w text;
    previous text;
BEGIN
    FOREACH w IN ARRAY tsvector_to_array(words) LOOP
        FOR n IN 1 .. least(length(w), 10) LOOP
            IF left(w, n) IS DISTINCT FROM left(previous, n) THEN
                k := k + 1;
                keys[k] := left(w, n);
            END IF;
        END LOOP;
        previous := w;
    END LOOP;
    RETURN keys;
END
$$;

-- The lexemes of the search's words cut to 10 characters, once (sorted: equal cuts are neighbours).
CREATE OR REPLACE FUNCTION cases_subject_probe(words text) RETURNS text[]
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    keys text[] := '{}';
    k int := 0;
    w text;
BEGIN
    FOREACH w IN ARRAY tsvector_to_array(to_tsvector('simple', words)) LOOP
        IF k = 0 OR keys[k] <> left(w, 10) THEN
            k := k + 1;
            keys[k] := left(w, 10);
        END IF;
    END LOOP;
    RETURN keys;
END
$$;

CREATE OR REPLACE FUNCTION cases_search_mirror() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    IF TG_TABLE_NAME = 'case_summaries' AND TG_OP = 'INSERT' THEN
        INSERT INTO case_search (id, doc, status, waiting_on, assignee_id, prioritised, severity, product_id,
                                 next_deadline_at, opened_at, last_activity_at)
        VALUES (NEW.id, strip(NEW.search_tsv), NEW.status, NEW.waiting_on, NEW.assignee_id, NEW.prioritised,
                NEW.severity, NEW.product_id, NEW.next_deadline_at, NEW.opened_at, NEW.last_activity_at)
        ON CONFLICT (id) DO NOTHING;
    ELSIF TG_TABLE_NAME = 'case_summaries' THEN
        UPDATE case_search SET status = NEW.status, waiting_on = NEW.waiting_on, assignee_id = NEW.assignee_id,
            prioritised = NEW.prioritised, severity = NEW.severity, product_id = NEW.product_id,
            next_deadline_at = NEW.next_deadline_at, opened_at = NEW.opened_at,
            last_activity_at = NEW.last_activity_at
        WHERE id = NEW.id;
    -- Another set of tables (the rebuild's shadow set): 0006's formatted statements, by the trigger's table's name.
    ELSIF TG_OP = 'INSERT' THEN
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
