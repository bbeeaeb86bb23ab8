"""The composition root: the pool, repository, handlers' dependencies, relay and directory consumer, built once from
Settings. The API app (main.py), the worker and the command line (__main__.py) all take them from here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg

from casefold_events.consumer import ConsumerRunner
from casefold_events.doorbell import Doorbell
from casefold_events.migrate import migrate, package_migrations, shared_migrations
from casefold_events.relay import OutboxRelay
from casefold_events.store import EventStore, Repository
from casefold_platform import database
from casefold_platform.worker import Parts
from cases.adapters.sla_clock import ControllableClock
from cases.app.handlers import CommandDeps
from cases.app.queries import QueryDeps
from cases.app.sla_worker import SlaWorker
from cases.config import Settings
from cases.consumers import identity_events_consumer
from cases.domain.clock import Clock, SystemClock
from cases.domain.model import STREAM_TYPE, Case


async def apply_migrations(settings: Settings) -> list[str]:
    """The shared event-store tables, then the cases read model; the names applied now."""
    return await migrate(settings.database_url, [shared_migrations(), package_migrations("cases")])


async def create_pool(settings: Settings) -> asyncpg.Pool:
    return await database.create_pool(settings, reset=end_unfinished_transaction)


async def end_unfinished_transaction(conn: asyncpg.Connection) -> None:
    """The pool's reset on release. asyncpg's default also drops session state (advisory locks, cursors, LISTEN,
    SET) in one more round trip per request; cases keeps none on a pool connection (transaction-level locks,
    SET LOCAL, listeners on their own connections), so only an unfinished transaction needs ending."""
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


@dataclass(frozen=True)
class Service:
    """Everything the cases processes share, over one pool."""

    settings: Settings
    pool: asyncpg.Pool
    commands: CommandDeps
    queries: QueryDeps
    relay: OutboxRelay
    directory_consumer: ConsumerRunner
    sla_worker: SlaWorker
    clock: Clock

    def workers(self) -> Parts:
        """The worker's jobs: the outbox relay, the user-directory consumer, the SLA worker (stopped in reverse)."""
        return Parts(self.relay, self.directory_consumer, self.sla_worker)


def build(settings: Settings, pool: asyncpg.Pool, clock: Clock | None = None) -> Service:
    # One clock for the API and the workers: whatever compares deadlines with "now" reads it from here.
    clock = clock or (ControllableClock() if settings.controllable_clock else SystemClock())
    policy = settings.sla_policy()
    # Events are stamped by the same clock, so that deadlines folded from them and "now" share one timeline.
    repository = Repository(EventStore(topics={STREAM_TYPE: settings.events_topic}), Case,
                            snapshot_every=settings.snapshot_every or None, clock=clock.now)  # fmt: skip
    relay = database.outbox_relay(settings, "cases")
    # The commands wake the relay after COMMIT: directly while this process's relay leads, by NOTIFY otherwise.
    doorbell = Doorbell(pool, local=relay)
    return Service(
        settings=settings,
        pool=pool,
        commands=CommandDeps(
            pool=pool,
            repository=repository,
            catalogue={p.id: p.name for p in settings.products},
            receipt_key=settings.receipt_key_bytes,
            doorbell=doorbell,
            retries=settings.command_retries,
            max_comments_per_case=settings.max_comments_per_case,
            clock=clock,
            sla=policy,
        ),
        queries=QueryDeps(pool=pool, repository=repository, clock=clock, count_cap=settings.count_cap),
        relay=relay,
        directory_consumer=identity_events_consumer(settings, pool),
        sla_worker=SlaWorker(pool, repository, policy, clock, poll_seconds=settings.sla_poll_seconds),
        clock=clock,
    )


@asynccontextmanager
async def open_service(settings: Settings) -> AsyncIterator[Service]:
    """A Service over a pool of its own, closed on exit (for the one-shot commands)."""
    pool = await create_pool(settings)
    try:
        yield build(settings, pool)
    finally:
        await pool.close()


@asynccontextmanager
async def open_worker(settings: Settings, pool: asyncpg.Pool) -> AsyncIterator[Parts]:
    """The worker command's parts, over the pool the shared worker runner made."""
    yield build(settings, pool).workers()
