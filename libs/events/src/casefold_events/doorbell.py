"""The outbox relay's doorbell: wakes the relay after a command has committed, without NOTIFY in its transaction.

A transaction that NOTIFYs takes one cluster-wide lock at COMMIT and holds it until the commit is flushed, so that
notifications queue in commit order (PostgreSQL's async.c, PreCommit_Notify). Every event-writing transaction of
every service's database then commits one at a time, each waiting for the one before it to reach the disk: no group
commit. Sampled under `bench http` (16 connections opening cases), the cases database's active backends were waiting
on that lock ("Lock: object", at COMMIT) more often than for anything else, the WAL flush included.

A command that appends with `notify=False` leaves the NOTIFY out and rings the doorbell once it has committed:

- when this process's relay leads (development, `bench http`), the ring wakes it directly: no statement at all;
- otherwise (the API apart from the worker, as on Kubernetes) the doorbell sends `pg_notify` on a pool connection,
  in a transaction of its own and outside the command's, coalescing the rings that arrive while one is on its way
  into one more after it. A ring is never lost to coalescing: each is followed by a NOTIFY sent after it.

A NOTIFY that fails (the database restarting) is logged and dropped, like a notification lost while the relay's
connection is down: the relay's polling is the safety net either way, so a lost wake-up delays a message by at most
its poll interval and loses nothing. The outbox rows are committed before the ring, so the relay that wakes sees them.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Protocol

import asyncpg
import structlog

from casefold_events.store.eventstore import OUTBOX_CHANNEL

log = structlog.get_logger("casefold.doorbell")
CLOSE_SECONDS = 5.0


class Wakeable(Protocol):
    """What the doorbell needs of a relay in the same process (casefold_events.relay.OutboxRelay)."""

    @property
    def is_leader(self) -> bool: ...

    def wake(self, *_: object) -> None: ...


class Doorbell:
    """Rings the relay awake after a commit (see the module's doc). local: this process's relay, if it runs one."""

    def __init__(self, pool: asyncpg.Pool, *, local: Wakeable | None = None, channel: str = OUTBOX_CHANNEL) -> None:
        self.pool = pool
        self.local = local
        self.channel = channel
        self.notifications = 0  # NOTIFYs sent (the rings they answered may be many more)
        self._sending: asyncio.Task[None] | None = None
        self._again = False

    def ring(self) -> None:
        """After COMMIT: wake the relay. Returns at once; a NOTIFY, when one is needed, is sent in the background."""
        if self.local is not None and self.local.is_leader:
            self.local.wake()
            return
        if self._sending is not None and not self._sending.done():
            self._again = True  # the NOTIFY on its way may have been sent before this ring: one more after it
            return
        self._sending = asyncio.create_task(self._notify(), name="casefold-doorbell")

    async def _notify(self) -> None:
        while True:
            self._again = False
            try:
                await self.pool.execute("SELECT pg_notify($1, '')", self.channel)
            except (TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
                log.warning("doorbell_notify_failed", error=type(exc).__name__, detail=str(exc)[:200])
                return
            self.notifications += 1
            if not self._again:
                return

    async def close(self) -> None:
        """Let a NOTIFY on its way finish (before the pool closes), for at most CLOSE_SECONDS."""
        if self._sending is not None and not self._sending.done():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._sending), CLOSE_SECONDS)
