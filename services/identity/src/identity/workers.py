"""Background work of the identity service beside the outbox relay: the purge of old rate-limit rows and of
unverified accounts past their TTL (bootstrap.Service.workers() runs both)."""

from __future__ import annotations

import structlog

from casefold_events.loops import BackgroundLoop
from identity.adapters import rate_limits
from identity.app.common import Identity
from identity.app.expiry import purge_unverified

log = structlog.get_logger("identity.workers")
PURGE_EVERY_SECONDS = 600
KEEP_RATE_LIMIT_ROWS_SECONDS = 24 * 3600


class Housekeeping(BackgroundLoop):
    """Every PURGE_EVERY_SECONDS, from the start: old rate-limit rows, then unverified accounts past their TTL."""

    task_name = "identity-housekeeping"

    def __init__(self, identity: Identity, every_seconds: float = PURGE_EVERY_SECONDS) -> None:
        super().__init__()
        self.identity = identity
        self.every_seconds = every_seconds

    async def run(self) -> None:
        while not self.stopping:
            # Each purge retries on the next round: a failure loses nothing, the rows just wait.
            try:
                await rate_limits.purge(self.identity.pool, KEEP_RATE_LIMIT_ROWS_SECONDS)
            except Exception as exc:
                log.warning("rate_limit_purge_failed", error=type(exc).__name__, detail=str(exc)[:300])
            try:
                expired = await purge_unverified(self.identity)
                if expired:
                    log.info("unverified_accounts_expired", count=expired)
            except Exception as exc:
                log.warning("unverified_purge_failed", error=type(exc).__name__, detail=str(exc)[:300])
            if await self.pause(self.every_seconds, wakeable=False):
                return
