-- Human case numbers: taken inside the open-case transaction. A rolled-back open leaves a gap; numbers stay unique
-- and increasing, which is all a customer needs (sequences never block concurrent opens).
CREATE SEQUENCE IF NOT EXISTS case_number_seq AS bigint START WITH 1 NO CYCLE;

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- The read model, created by a function so that a rebuild can create an identical set of shadow tables
-- (suffix '_shadow') and swap them in. One definition of the tables, here.
CREATE OR REPLACE FUNCTION cases_create_read_model(suffix text) RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    EXECUTE format($ddl$
        CREATE TABLE IF NOT EXISTS %1$I (
            id               uuid        PRIMARY KEY,
            number           bigint      NOT NULL,
            product_id       text        NOT NULL,
            product_name     text        NOT NULL,
            subject          text        NOT NULL,
            description      text        NOT NULL,
            severity         smallint    NOT NULL,
            prioritised      boolean     NOT NULL,
            priority_rule    text,
            status           text        NOT NULL,
            opened_by        uuid        NOT NULL,
            opened_at        timestamptz NOT NULL,
            closed_at        timestamptz,
            last_activity_at timestamptz NOT NULL,
            version          integer     NOT NULL,
            subject_tsv      tsvector    GENERATED ALWAYS AS (to_tsvector('simple', subject)) STORED
        )$ddl$, 'case_summaries' || suffix);
    EXECUTE format('CREATE UNIQUE INDEX IF NOT EXISTS %I ON %I (number)',
                   'case_summaries' || suffix || '_number', 'case_summaries' || suffix);
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I (last_activity_at DESC, id DESC)',
                   'case_summaries' || suffix || '_activity', 'case_summaries' || suffix);
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I (status, last_activity_at DESC, id DESC)',
                   'case_summaries' || suffix || '_status_activity', 'case_summaries' || suffix);
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I (opened_by, last_activity_at DESC, id DESC)',
                   'case_summaries' || suffix || '_owner_activity', 'case_summaries' || suffix);
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I (opened_by, status, last_activity_at DESC, id DESC)',
                   'case_summaries' || suffix || '_owner_status_activity', 'case_summaries' || suffix);
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I USING gin (subject_tsv)',
                   'case_summaries' || suffix || '_subject_fts', 'case_summaries' || suffix);
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I USING gin (subject gin_trgm_ops)',
                   'case_summaries' || suffix || '_subject_trgm', 'case_summaries' || suffix);

    EXECUTE format($ddl$
        CREATE TABLE IF NOT EXISTS %1$I (
            case_id     uuid        NOT NULL,
            comment_id  uuid        NOT NULL,
            seq         integer     NOT NULL,
            author_id   uuid        NOT NULL,
            author_role text        NOT NULL,
            body        text        NOT NULL,
            internal    boolean     NOT NULL,
            created_at  timestamptz NOT NULL,
            PRIMARY KEY (case_id, seq)
        )$ddl$, 'case_comments' || suffix);

    EXECUTE format($ddl$
        CREATE TABLE IF NOT EXISTS %1$I (
            case_id       uuid        NOT NULL,
            attachment_id uuid        NOT NULL,
            seq           integer     NOT NULL,
            filename      text        NOT NULL,
            size          bigint      NOT NULL,
            content_type  text        NOT NULL,
            sha256        text        NOT NULL,
            added_by      uuid        NOT NULL,
            added_by_role text        NOT NULL,
            added_at      timestamptz NOT NULL,
            PRIMARY KEY (case_id, attachment_id)
        )$ddl$, 'case_attachments' || suffix);
END
$fn$;

-- Swap the shadow tables in: drop the live ones, rename shadow tables and their indexes to the live names.
-- Runs in the rebuild's final transaction, so readers see either the old or the new read model, never a mix.
CREATE OR REPLACE FUNCTION cases_swap_read_model() RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
    t text;
    i record;
BEGIN
    FOREACH t IN ARRAY ARRAY['case_summaries', 'case_comments', 'case_attachments'] LOOP
        EXECUTE format('DROP TABLE %I', t);
        EXECUTE format('ALTER TABLE %I RENAME TO %I', t || '_shadow', t);
        FOR i IN SELECT indexname FROM pg_indexes
                 WHERE schemaname = current_schema() AND tablename = t AND indexname LIKE t || '_shadow%' LOOP
            EXECUTE format('ALTER INDEX %I RENAME TO %I', i.indexname, replace(i.indexname, '_shadow', ''));
        END LOOP;
    END LOOP;
END
$fn$;

SELECT cases_create_read_model('');
