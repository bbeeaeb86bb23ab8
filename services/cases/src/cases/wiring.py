"""Wiring in one place: the event store, repository and the handlers' dependencies from settings and a pool."""

from __future__ import annotations

import asyncpg

from casefold_events.relay import OutboxRelay
from casefold_events.store import EventStore, Repository
from cases.app.handlers import CommandDeps
from cases.app.queries import QueryDeps
from cases.config import Settings
from cases.domain.model import STREAM_TYPE, Case


def repository(settings: Settings) -> Repository[Case]:
    store = EventStore(topics={STREAM_TYPE: settings.events_topic})
    return Repository(store, Case, snapshot_every=settings.snapshot_every or None)


def command_deps(settings: Settings, pool: asyncpg.Pool) -> CommandDeps:
    return CommandDeps(
        pool=pool,
        repository=repository(settings),
        catalogue={p.id: p.name for p in settings.products},
        receipt_key=settings.receipt_key_bytes,
        retries=settings.command_retries,
    )


def query_deps(settings: Settings, pool: asyncpg.Pool) -> QueryDeps:
    return QueryDeps(pool=pool, repository=repository(settings))


def outbox_relay(settings: Settings) -> OutboxRelay:
    """Publishes the cases outbox (cases.events.v1, keyed by case id)."""
    return OutboxRelay(
        settings.database_url,
        settings.kafka_bootstrap_servers,
        "cases-relay",
        producer_options=settings.kafka_options(),
    )
