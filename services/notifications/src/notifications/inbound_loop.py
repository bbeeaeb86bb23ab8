"""The inbound loop: turns accepted replies by email into comments through the cases service, until stopped.

Woken by NOTIFY when a reply was stored, polling as a safety net. Each reply is handled while its row is locked
(FOR UPDATE SKIP LOCKED), in one transaction with its activity-history entry and any automatic answer; the call to
cases is idempotent by the reply's Message-ID, so a crash after cases wrote the comment adds nothing the second time.
The reply's attachments are stored through attachments first (each under an id derived from the Message-ID and its
part, so a retry stores nothing twice), then added to the case once the comment is written.
cases or attachments unreachable or answering 5xx: retried without limit, with capped, jittered backoff.
"""

from __future__ import annotations

import asyncpg
import httpx
import structlog

from notifications.adapters import inbound
from notifications.adapters.attachments_client import AttachmentsClient
from notifications.adapters.cases_client import CasesClient
from notifications.app.inbound import process
from notifications.app.mailer import Mailer
from notifications.domain.emails import retry_delay
from notifications.listening import ListeningLoop

log = structlog.get_logger("notifications.inbound")


class InboundLoop(ListeningLoop):
    task_name = "notifications-inbound"
    channel = inbound.CHANNEL

    def __init__(
        self,
        pool: asyncpg.Pool,
        cases: CasesClient,
        attachments: AttachmentsClient,
        mail: Mailer,
        *,
        dsn: str | None = None,
        poll_seconds: float = 1.0,
        retry_initial_seconds: float = 2.0,
        retry_max_seconds: float = 300.0,
    ) -> None:
        self.pool = pool
        self.cases = cases
        self.attachments = attachments
        self.mail = mail
        self.poll_seconds = poll_seconds
        self.retry_initial_seconds = retry_initial_seconds
        self.retry_max_seconds = retry_max_seconds
        super().__init__(dsn)

    async def stop(self) -> None:
        await super().stop()
        await self.cases.close()
        await self.attachments.close()

    async def run(self) -> None:
        while not self.stopping:
            self._wake.clear()
            try:
                handled = await self.run_once()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("inbound_round_failed", error=type(exc).__name__)
                handled = 0
            if not handled:
                await self.pause(self.poll_seconds)

    async def run_once(self, batch: int = 20) -> int:
        """Handle due replies; how many were looked at."""
        async with self.pool.acquire() as conn, conn.transaction():
            due = await inbound.claim(conn, batch)
            for received in due:
                try:
                    async with conn.transaction():  # a savepoint: one reply's failure keeps the others' work
                        await process(conn, self.cases, self.attachments, self.mail, received)
                except (httpx.HTTPError, RuntimeError) as exc:
                    delay = retry_delay(received.attempts + 1, self.retry_initial_seconds, self.retry_max_seconds)
                    await inbound.retry(conn, received.id, f"{type(exc).__name__}: {exc}", delay)
                    log.warning("inbound_retry", inbound_id=str(received.id), retry_in=delay, error=str(exc))
            return len(due)
