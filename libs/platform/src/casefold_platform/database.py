"""A service's PostgreSQL pool from its Settings (with the command timeout and keepalives of casefold_events.pools),
and the relay that publishes its outbox."""

from __future__ import annotations

from typing import Any

import asyncpg

from casefold_events import pools
from casefold_events.relay import OutboxRelay
from casefold_platform.settings import ServiceSettings


async def create_pool(
    settings: ServiceSettings, *, min_size: int | None = None, max_size: int | None = None, **options: Any
) -> asyncpg.Pool:
    """The service's pool: its database_url, pool sizes (overridable) and database_command_timeout; options go to
    asyncpg.create_pool (a service's own `reset`, say)."""
    return await pools.create_pool(
        settings.database_url,
        min_size=min_size if min_size is not None else settings.pool_min_size,
        max_size=max_size if max_size is not None else settings.pool_max_size,
        command_timeout=settings.database_command_timeout,
        **options,
    )


def outbox_relay(settings: ServiceSettings, service: str) -> OutboxRelay:
    """The relay of the service's outbox (one active per database), named `<service>-relay` in logs and metrics."""
    return OutboxRelay(
        settings.database_url, settings.kafka_bootstrap_servers, f"{service}-relay",
        producer_options=settings.kafka_options(),
    )  # fmt: skip
