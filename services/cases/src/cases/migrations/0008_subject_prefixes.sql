-- The case list's search by word prefixes (read_model.SearchTerms: every word of q is a prefix of a subject word,
-- all of them) through an index of the prefixes themselves. The subject's GIN index (subject_tsv, 0001) answers a
-- prefix ("login:*") only by reading every posting of every word it matches into a bitmap before the words are
-- intersected: two frequent words cost 27 ms at 1,000,000 cases. Here each subject word's prefixes (1 to
-- PREFIX_LENGTH characters) are the keys of a GIN index over an expression, so a prefix is an exact key and GIN
-- intersects the words by its fast scan (the rarer word's postings drive the skips over the other's).
-- A query word longer than the prefixes is looked up by its first PREFIX_LENGTH characters and every candidate is
-- checked against subject_tsv as before, so the search finds what it found (the key set is a superset test only).
--
-- An expression index, not a column: no table rewrite for existing rows, nothing for the projection to write.
-- Existing deployments: this migration builds the index under a SHARE lock, so commands (which project inline)
-- wait for it: 45 s at 1,000,000 cases on the two busy cores of the bench machine (the keys of a million subjects
-- are computed in 15 s of it), 97 MB of index beside the table's 372 MB; then an ANALYZE (about 1 s). To avoid the
-- pause, create the two functions below and build the index beforehand, outside a transaction:
--     CREATE INDEX CONCURRENTLY case_summaries_subject_prefixes ON case_summaries
--         USING gin (cases_subject_prefixes(subject_tsv));
-- this migration then finds it (IF NOT EXISTS) and only analyzes. Writes: each new or changed summary adds its
-- subject's keys (about 24) to the index's pending list.
--
-- The read model's tables stay defined by one function (the rebuild's shadow tables use it): the version before
-- this migration is kept under its own name and extended, as 0003 did.

-- Every prefix of every word of a subject's words (subject_tsv: the 'simple' configuration), up to 10 characters.
CREATE OR REPLACE FUNCTION cases_subject_prefixes(words tsvector) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT left(w, n)), '{}')
    FROM unnest(tsvector_to_array(words)) AS w, generate_series(1, least(length(w), 10)) AS n
$$;

-- The keys a search's words must all be among: the lexemes to_tsquery('simple', ...) makes of the same words
-- (the same parser and dictionary), cut to the prefixes' length. Empty when the words have no lexeme (the search
-- then matches nothing: callers test cardinality first, since every array contains the empty one).
CREATE OR REPLACE FUNCTION cases_subject_probe(words text) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT left(w, 10)), '{}') FROM unnest(tsvector_to_array(to_tsvector('simple', words))) AS w
$$;

ALTER FUNCTION cases_create_read_model(text) RENAME TO cases_create_read_model_before_subject_prefixes;

CREATE OR REPLACE FUNCTION cases_create_read_model(suffix text) RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
    s text := 'case_summaries' || suffix;
BEGIN
    PERFORM cases_create_read_model_before_subject_prefixes(suffix);
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I USING gin (cases_subject_prefixes(subject_tsv))',
                   s || '_subject_prefixes', s);
END
$fn$;

SET LOCAL maintenance_work_mem = '256MB';
SELECT cases_create_read_model('');
-- The planner's statistics of the new expression (its most common keys): a search's plan is chosen by them.
ANALYZE case_summaries;
