"""The PostgreSQL event store: append with optimistic concurrency, stream reads, snapshots, gap-safe global reads."""

from casefold_events.store.aggregate import Aggregate, Repository, in_transaction
from casefold_events.store.errors import ConcurrencyError
from casefold_events.store.eventstore import ANY, NO_STREAM, EventStore, ExpectedVersion, Snapshot
from casefold_events.store.outbox import enqueue
from casefold_events.store.reader import Position, read_all

__all__ = [
    "ANY",
    "NO_STREAM",
    "Aggregate",
    "ConcurrencyError",
    "EventStore",
    "ExpectedVersion",
    "Position",
    "Repository",
    "Snapshot",
    "enqueue",
    "in_transaction",
    "read_all",
]
