-- Read model of the User aggregate (updated inline in the append transaction), for lookups by email and name.
CREATE TABLE users (
    id             uuid        PRIMARY KEY,
    email          text        NOT NULL,
    email_key      text        NOT NULL,
    display_name   text        NOT NULL,
    display_key    text        NOT NULL,
    role           text        NOT NULL DEFAULT 'customer',
    email_verified boolean     NOT NULL DEFAULT false,
    pending_email  text,
    version        integer     NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_email_key_unique UNIQUE (email_key),
    CONSTRAINT users_display_key_unique UNIQUE (display_key)
);

-- Password hashes live only here: never in an event, never on a topic.
CREATE TABLE credentials (
    user_id       uuid        PRIMARY KEY REFERENCES users (id),
    password_hash text        NOT NULL,
    changed_at    timestamptz NOT NULL DEFAULT now()
);

-- Single-use links: only the sha256 of the token is stored.
CREATE TABLE confirmation_tokens (
    token_hash bytea       PRIMARY KEY,
    user_id    uuid        NOT NULL REFERENCES users (id),
    purpose    text        NOT NULL CHECK (purpose IN ('confirm-email', 'confirm-email-change')),
    email      text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX confirmation_tokens_user ON confirmation_tokens (user_id) WHERE used_at IS NULL;

-- A session is a family of rotating refresh tokens; revoking it ends every token of the family.
CREATE TABLE sessions (
    family_id      uuid        PRIMARY KEY,
    user_id        uuid        NOT NULL REFERENCES users (id),
    created_at     timestamptz NOT NULL DEFAULT now(),
    revoked_at     timestamptz,
    revoked_reason text
);
CREATE INDEX sessions_user_active ON sessions (user_id) WHERE revoked_at IS NULL;

-- One row per issuance (login or refresh): the refresh token's hash and the access token issued with it.
CREATE TABLE refresh_tokens (
    token_hash        bytea       PRIMARY KEY,
    family_id         uuid        NOT NULL REFERENCES sessions (family_id),
    parent_hash       bytea,
    issued_at         timestamptz NOT NULL DEFAULT now(),
    expires_at        timestamptz NOT NULL,
    rotated_at        timestamptz,
    access_jti        text        NOT NULL UNIQUE,
    access_expires_at timestamptz NOT NULL
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_access_live ON refresh_tokens (access_expires_at);

-- ES256 signing keys. private_pem is stored in plain text: the database is the secret here (see README).
CREATE TABLE signing_keys (
    kid         text        PRIMARY KEY,
    private_pem text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    retired_at  timestamptz
);

-- Sliding-window rate limits: one row per counted attempt.
CREATE TABLE rate_limit_hits (
    bucket text        NOT NULL,
    at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rate_limit_hits_bucket_at ON rate_limit_hits (bucket, at);
