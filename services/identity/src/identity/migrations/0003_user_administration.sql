-- User administration: a disabled account keeps its row (and its address and name) but may not log in.
ALTER TABLE users ADD COLUMN disabled boolean NOT NULL DEFAULT false;
-- The admin list pages newest first.
CREATE INDEX users_newest_first ON users (created_at DESC, id DESC);
-- The transaction that spent a reset link: the audit tells a password reset from a change by the PasswordChanged
-- event written in the same transaction (events.tx_id).
ALTER TABLE password_reset_tokens ADD COLUMN used_tx xid8;
