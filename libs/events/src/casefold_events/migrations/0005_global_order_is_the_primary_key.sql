-- The gap-safe global order (tx_id, global_position) is the primary key. It used to be a second index beside a
-- primary key on global_position alone, which no query reads by: every event paid for one index more than it needs.
-- global_position stays unique (an identity column no one may set); the pair is unique with it.
ALTER TABLE events
    DROP CONSTRAINT events_pkey,
    ADD CONSTRAINT events_pkey PRIMARY KEY (tx_id, global_position);
DROP INDEX IF EXISTS events_global_order;
