-- The user directory: who a case's owner is, by address (projection of identity.events.v1).
CREATE TABLE users (
    user_id      uuid PRIMARY KEY,
    email        text        NOT NULL,
    display_name text        NOT NULL,
    verified     boolean     NOT NULL DEFAULT false,
    role         text        NOT NULL DEFAULT 'customer',
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- What notifications needs to know about a case (projection of cases.events.v1).
CREATE TABLE cases (
    case_id         uuid PRIMARY KEY,
    number          bigint      NOT NULL,
    subject         text        NOT NULL,
    owner_id        uuid        NOT NULL,
    severity        smallint    NOT NULL,
    prioritised     boolean     NOT NULL,
    status          text        NOT NULL DEFAULT 'open',
    opened_event_id uuid        NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- The email outbox and the activity history in one: one row per email, written in the consumer's transaction.
CREATE TABLE emails (
    id                uuid PRIMARY KEY,
    seq               bigserial   NOT NULL UNIQUE,
    message_id        text        NOT NULL UNIQUE,
    case_id           uuid,
    kind              text        NOT NULL,
    direction         text        NOT NULL CHECK (direction IN ('outbound', 'inbound', 'internal')),
    recipient_user_id uuid,
    from_address      text        NOT NULL,
    to_address        text,
    subject           text        NOT NULL,
    text_body         text        NOT NULL,
    html_body         text        NOT NULL,
    headers           jsonb       NOT NULL,
    secret            text,
    status            text        NOT NULL CHECK (status IN ('waiting', 'queued', 'sent', 'failed')),
    attempts          integer     NOT NULL DEFAULT 0,
    next_attempt_at   timestamptz NOT NULL DEFAULT now(),
    last_error        text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    sent_at           timestamptz,
    CHECK (status = 'waiting' OR to_address IS NOT NULL)
);

CREATE INDEX emails_due ON emails (next_attempt_at) WHERE status = 'queued';
CREATE INDEX emails_waiting ON emails (recipient_user_id) WHERE status = 'waiting';
CREATE INDEX emails_by_case ON emails (case_id, seq) WHERE case_id IS NOT NULL;
