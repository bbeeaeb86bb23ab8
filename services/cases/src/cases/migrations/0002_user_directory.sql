-- The user directory: who is who, projected from identity.events.v1 (never a read of identity's tables), so that
-- views carry display names and the open-case rule can see an email confirmed after the token was issued.
-- Events may arrive out of order (a redelivery, a dead letter re-driven, a rebuild racing live traffic), so each
-- group of columns remembers the stream version that last set it, and only a newer event replaces it. A row can
-- exist before its UserRegistered has arrived: then the columns that event brings are still null.
CREATE TABLE IF NOT EXISTS users (
    id             uuid        PRIMARY KEY,
    display_name   text,
    name_version   integer     NOT NULL DEFAULT 0,
    email          text,
    -- true when the address in `email` was confirmed (the flag moves with the address it is about)
    email_verified boolean     NOT NULL DEFAULT false,
    email_version  integer     NOT NULL DEFAULT 0,
    role           text        CHECK (role IN ('customer', 'agent', 'admin')),
    role_version   integer     NOT NULL DEFAULT 0,
    -- the newest event applied: its stream version and when it happened
    version        integer     NOT NULL,
    updated_at     timestamptz NOT NULL
);
