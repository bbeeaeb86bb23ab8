"""A BackgroundLoop that NOTIFY wakes as well: the delivery and inbound loops' shared LISTEN plumbing."""

from __future__ import annotations

import contextlib

import asyncpg
import structlog

from casefold_events import pools
from casefold_events.loops import BackgroundLoop

log = structlog.get_logger("notifications.listening")


class ListeningLoop(BackgroundLoop):
    """Woken by NOTIFY on `channel` (sent in the transaction that queued work, so it arrives after commit); its own
    polling stays the safety net, also for a lost listener connection."""

    channel: str

    def __init__(self, dsn: str | None) -> None:
        self.dsn = dsn
        self._listener: asyncpg.Connection | None = None
        super().__init__()

    async def start(self) -> None:
        if self.dsn is not None:
            try:
                self._listener = await pools.connect(self.dsn)
                await self._listener.add_listener(self.channel, self.wake)
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("listen_failed", loop=self.task_name, error=type(exc).__name__)  # polling still works
        await super().start()

    async def stop(self) -> None:
        await super().stop()
        if self._listener is not None:
            with contextlib.suppress(OSError, asyncpg.PostgresError):
                await self._listener.close()
            self._listener = None
