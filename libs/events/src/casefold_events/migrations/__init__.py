"""SQL migrations of the shared tables (event store, outbox, inbox, idempotency keys)."""
