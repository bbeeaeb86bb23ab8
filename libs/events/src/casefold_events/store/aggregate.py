"""Aggregates rebuilt from their streams, saved with optimistic concurrency, and a bounded-retry transaction helper.

An aggregate's command methods check the rules and return new events; `apply` folds one event into its state
(also used while replaying). Aggregates do no I/O; the Repository loads and saves them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, ClassVar, Generic, Self, TypeVar

import asyncpg

from casefold_events.contracts.base import Event
from casefold_events.envelope import EventRecord, Metadata, RecordedEvent
from casefold_events.store.errors import ConcurrencyError
from casefold_events.store.eventstore import EventStore, Snapshot
from casefold_events.writes import Writes

T = TypeVar("T")


class Aggregate:
    """Base of event-sourced aggregates. Subclasses set stream_type and implement apply()."""

    stream_type: ClassVar[str]
    # Bump when the snapshot's shape changes: older snapshots are then ignored (replayed from events instead).
    snapshot_version: ClassVar[int] = 1

    def __init__(self, stream_id: str) -> None:
        self.id = stream_id
        self.version = 0
        # When the event being applied happened (set during replay, so apply() can record times).
        self.event_time: datetime | None = None

    def apply(self, event: Event) -> None:
        raise NotImplementedError

    def to_snapshot(self) -> dict[str, Any] | None:
        """The state as JSON data, or None when this aggregate does not snapshot."""
        return None

    @classmethod
    def from_snapshot(cls, stream_id: str, state: dict[str, Any]) -> Self:
        raise NotImplementedError

    def replay(self, records: Iterable[EventRecord]) -> Self:
        return self.replay_events((r.stream_version, r.occurred_at, r.event()) for r in records)

    def replay_events(self, events: Iterable[tuple[int, datetime, Event]]) -> Self:
        """Fold (stream_version, occurred_at, event) triples into this aggregate, in order."""
        for version, occurred_at, event in events:
            self.event_time = occurred_at
            self.apply(event)
            self.version = version
        return self


A = TypeVar("A", bound=Aggregate)


class Repository(Generic[A]):
    """Loads aggregates of one type (from a snapshot when one exists) and saves their new events."""

    def __init__(
        self,
        store: EventStore,
        cls: type[A],
        *,
        snapshot_every: int | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.store = store
        self.cls = cls
        self.snapshot_every = snapshot_every
        # When events happen, if not the store's own clock (a service with a controllable clock for tests).
        self.clock = clock

    async def load(
        self,
        conn: asyncpg.Connection | asyncpg.Pool,
        stream_id: str,
        *,
        to_version: int | None = None,
        until: datetime | None = None,
    ) -> A:
        """The aggregate at its latest version, or as of to_version / until (time travel). Version 0: no stream.

        until is turned into a version first (EventStore.version_at: a prefix of the stream), so time travel by time
        is time travel by version, and may start from a snapshot like any other load.
        """
        aggregate = self.cls(stream_id)
        if until is not None:
            at = await self.store.version_at(conn, stream_id, until)
            to_version = at if to_version is None else min(to_version, at)
            until = None
            if to_version == 0:
                return aggregate
        if self.snapshot_every and to_version is None:  # the hot path: the latest state, in one round trip
            latest, events = await self.store.load_latest(conn, stream_id, self.cls.snapshot_version)
            if latest is not None:
                aggregate = self.cls.from_snapshot(stream_id, latest.state)
                aggregate.version = latest.stream_version
            return aggregate.replay_events(events)
        if self.snapshot_every:
            snap = await self.store.load_snapshot(conn, stream_id, self.cls.snapshot_version, max_version=to_version)
            if snap is not None:
                aggregate = self.cls.from_snapshot(stream_id, snap.state)
                aggregate.version = snap.stream_version
        events = await self.store.read_events(
            conn, stream_id, after_version=aggregate.version, to_version=to_version, until=until
        )
        return aggregate.replay_events(events)

    async def save(
        self,
        conn: asyncpg.Connection,
        aggregate: A,
        events: Sequence[Event],
        metadata: Metadata,
        *,
        defer: Writes | None = None,
        notify: bool = True,
    ) -> list[RecordedEvent]:
        """Append events at the version the aggregate was loaded at, apply them, snapshot when due.

        defer: the append (and snapshot) ride with the transaction's other writes, sent when it is flushed
        (casefold_events.writes); the aggregate is applied at once, as if they had been sent. notify=False: the
        caller wakes the relay after COMMIT (EventStore.append, casefold_events.doorbell).
        """
        before = aggregate.version
        recorded = await self.store.append(
            conn, aggregate.id, self.cls.stream_type, events, expected_version=before, metadata=metadata,
            occurred_at=self.clock() if self.clock is not None else None, defer=defer, notify=notify,
        )  # fmt: skip
        aggregate.replay(recorded)
        every = self.snapshot_every
        if every and aggregate.version // every > before // every:
            state = aggregate.to_snapshot()
            if state is not None:
                snap = Snapshot(aggregate.version, self.cls.snapshot_version, state)
                await self.store.save_snapshot(conn, aggregate.id, self.cls.stream_type, snap, defer=defer)
        return recorded


async def in_transaction(
    pool: asyncpg.Pool,
    work: Callable[[asyncpg.Connection], Awaitable[T]],
    *,
    retries: int = 3,
    first: str | None = None,
) -> T:
    """Run work in a fresh transaction; on ConcurrencyError start over (fresh load) up to `retries` more times.

    first: a statement without parameters that opens every transaction (a lock, say), sent with BEGIN in one
    message: one round trip fewer per command. The work must then not open transactions of its own.
    """
    attempt = 0
    while True:
        try:
            async with pool.acquire() as conn:
                if first is None:
                    async with conn.transaction():
                        return await work(conn)
                return await _begun_with(conn, first, work)
        except ConcurrencyError:
            attempt += 1
            if attempt > retries:
                raise


async def _begun_with(conn: asyncpg.Connection, first: str, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    await conn.execute(f"BEGIN; {first}")
    try:
        result = await work(conn)
    except BaseException:
        # On a broken or cancelled connection the pool's reset on release rolls back instead.
        if not conn.is_closed() and conn.is_in_transaction():
            await conn.execute("ROLLBACK")
        raise
    await conn.execute("COMMIT")
    return result
