"""Background work of the identity service: the outbox relay, the purge of old rate-limit rows and of unverified
accounts past their TTL."""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg
import structlog

from casefold_events.relay import OutboxRelay
from identity.adapters import rate_limits
from identity.app.expiry import purge_unverified
from identity.bootstrap import build_identity
from identity.config import Settings

log = structlog.get_logger("identity.workers")
PURGE_EVERY_SECONDS = 600
KEEP_RATE_LIMIT_ROWS_SECONDS = 24 * 3600


class Workers:
    """Starts and stops the relay (user events and private mail commands) and housekeeping."""

    def __init__(self, settings: Settings, pool: asyncpg.Pool) -> None:
        self.relay = OutboxRelay(
            settings.database_url,
            settings.kafka_bootstrap_servers,
            "identity-relay",
            producer_options=settings.kafka_options(),
        )
        self.pool = pool
        self.settings = settings
        self._housekeeping: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.relay.start()
        self._housekeeping = asyncio.create_task(self._purge_forever(), name="identity-housekeeping")

    async def stop(self) -> None:
        if self._housekeeping is not None:
            self._housekeeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._housekeeping
            self._housekeeping = None
        await self.relay.stop()

    async def _purge_forever(self) -> None:
        # Built once: it hashes a dummy password (64 MiB of argon2) when made.
        ctx = build_identity(self.settings, self.pool)
        while True:
            try:
                await rate_limits.purge(self.pool, KEEP_RATE_LIMIT_ROWS_SECONDS)
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("rate_limit_purge_failed", error=str(exc))
            try:
                expired = await purge_unverified(ctx)
                if expired:
                    log.info("unverified_accounts_expired", count=expired)
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("unverified_purge_failed", error=str(exc))
            await asyncio.sleep(PURGE_EVERY_SECONDS)
