-- The agent an internal email is addressed to (SLA warnings and breaches of an assigned case): NULL for mail to the
-- support address and for customer mail (whose recipient is recipient_user_id). An agent who is disabled, or whose
-- agent role is revoked, before their email is sent (an SMTP outage, retries) is no recipient any more: what is
-- still queued for them goes to the support address, as mail written after that moment does.
ALTER TABLE emails ADD COLUMN IF NOT EXISTS agent_user_id uuid;
CREATE INDEX IF NOT EXISTS emails_queued_for_agent ON emails (agent_user_id)
    WHERE status = 'queued' AND agent_user_id IS NOT NULL;
