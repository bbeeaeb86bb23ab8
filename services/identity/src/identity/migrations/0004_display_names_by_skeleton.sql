-- Display names are unique by their full UTS #39 skeleton from now on (identity.domain.display_names, key version 2).
-- Existing accounts whose names collide under the new key keep them: uniqueness is checked when a name is claimed
-- (sign-up, rename) under an advisory lock on the key, no longer by a constraint that such old pairs would break.
ALTER TABLE users DROP CONSTRAINT users_display_key_unique;
CREATE INDEX users_display_key ON users (display_key);
-- Rows written before this carry the old key; the service recomputes them at start (bootstrap.refresh_display_keys).
ALTER TABLE users ADD COLUMN display_key_version integer NOT NULL DEFAULT 1;
