-- Disabled accounts in the user directory (UserDisabled / UserEnabled of identity.events.v1): a disabled agent is
-- no current agent, so the cases assigned to them count as unassigned in the queues (like a revoked agent's) and
-- they leave the assignee menu. The flag carries its own stream version, as every column group of 0002 does.
-- Directories projected before this migration skipped those events: `python -m cases reset-user-directory`
-- replays the topic to learn who is disabled already.
ALTER TABLE users
    ADD COLUMN IF NOT EXISTS disabled         boolean NOT NULL DEFAULT false,
    ADD COLUMN IF NOT EXISTS disabled_version integer NOT NULL DEFAULT 0;

-- The assignee menu and the current-agent checks read the few agents who may act, not every user.
DROP INDEX IF EXISTS users_agents;
CREATE INDEX IF NOT EXISTS users_agents ON users (id) WHERE role IN ('agent', 'admin') AND NOT disabled;
