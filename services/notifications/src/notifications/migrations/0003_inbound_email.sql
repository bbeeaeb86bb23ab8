-- Replies received by email, stored whole when accepted at SMTP time, then turned into comments by the inbound
-- loop (through cases' private route). The Message-ID makes a second delivery of the same email a no-op.
CREATE TABLE inbound_emails (
    id              uuid PRIMARY KEY,
    message_id      text        NOT NULL UNIQUE,
    case_id         uuid        NOT NULL,
    author_id       uuid        NOT NULL,
    author_role     text        NOT NULL,
    from_address    text        NOT NULL,
    to_address      text        NOT NULL,
    subject         text        NOT NULL,
    headers         jsonb       NOT NULL,
    text_body       text        NOT NULL,
    html_body       text        NOT NULL,
    new_text        text        NOT NULL,
    status          text        NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'commented', 'refused-closed', 'rejected')),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    received_at     timestamptz NOT NULL DEFAULT now(),
    done_at         timestamptz
);

CREATE INDEX inbound_emails_pending ON inbound_emails (next_attempt_at) WHERE status = 'pending';
-- The per-sender rate limit counts what one address sent in the last hour.
CREATE INDEX inbound_emails_by_sender ON inbound_emails (lower(from_address), received_at);
-- An agent replying by email is found by address.
CREATE INDEX users_by_email ON users (lower(email));
