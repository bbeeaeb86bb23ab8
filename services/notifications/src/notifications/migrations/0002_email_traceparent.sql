-- The trace of the event that queued the email: the SMTP send joins it, so one trace runs from request to mailbox.
ALTER TABLE emails ADD COLUMN traceparent text;
