-- The whole accepted message, so the inbound loop can store its attachments through the attachments service (each
-- part under an id derived from the Message-ID and its position: a retry finds what the first attempt stored).
ALTER TABLE inbound_emails ADD COLUMN raw bytea NOT NULL DEFAULT ''::bytea;
