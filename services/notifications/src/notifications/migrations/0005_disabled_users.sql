-- Disabled accounts in the user directory (UserDisabled / UserEnabled of identity.events.v1). A disabled agent is
-- no recipient of agent mail (SLA warnings and breaches go to the support address, as for an unassigned case) and
-- may not reply by email; case mail to a disabled customer is withheld: kept in the case's history with the reason,
-- never sent. The flag carries the user stream's version of the event that set it, so the one-off
-- `python -m notifications backfill-disabled-users` (directories projected before this migration skipped those
-- events) can replay them beside running workers without undoing a later change.
ALTER TABLE users
    ADD COLUMN IF NOT EXISTS disabled         boolean NOT NULL DEFAULT false,
    ADD COLUMN IF NOT EXISTS disabled_version integer NOT NULL DEFAULT 0;

-- 'withheld': never sent because its recipient's account is disabled (last_error says so); not delivered, not
-- re-driven.
ALTER TABLE emails DROP CONSTRAINT IF EXISTS emails_status_check;
ALTER TABLE emails ADD CONSTRAINT emails_status_check
    CHECK (status IN ('waiting', 'queued', 'sent', 'failed', 'withheld'));
