"""The delivery loop: drains the emails outbox over SMTP; an outage delays mail and loses none.

Only the server's final word on a message (a 5xx answer to it) fails it; everything else is retried without an
attempt limit, with capped, jittered backoff: per message for what happened to that message (a 4xx answer, the
connection breaking under it), and for the whole loop while the server cannot be reached at all (then no email is
charged: it never got to the server). A failed email can be queued again by `python -m notifications redrive`.

Woken by NOTIFY (sent in the transaction that queued an email, so it arrives after commit) and by polling, which
also picks up retries whose backoff has elapsed and covers a lost listener connection. Each batch is sent while
its rows are locked (FOR UPDATE SKIP LOCKED): several workers never send one email twice. The row is marked sent
only after the server accepted the message; a crash in between may resend it once (at-least-once), with the same
Message-ID, so a receiving mail system can tell.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg
import structlog
from opentelemetry.trace import SpanKind, StatusCode

from casefold_events.backoff import jittered
from casefold_platform.metrics import EMAILS_FAILED, EMAILS_SENT
from casefold_platform.tracing import context_from_traceparent, get_tracer
from notifications.adapters import outbox
from notifications.adapters.mime import compose
from notifications.adapters.smtp import Outcome, SmtpConfig, SmtpSender
from notifications.domain.emails import retry_delay
from notifications.listening import ListeningLoop

log = structlog.get_logger("notifications.delivery")


def _trace(email: outbox.Due, outcome: Outcome, server: SmtpConfig) -> None:
    """A span for the SMTP send, child of the consumer span that queued the email (one trace end to end, also when
    the send happens later, after retries: the email row keeps that span's traceparent)."""
    started = outcome.started_ns or time.time_ns()
    span = get_tracer().start_span("smtp send", context=context_from_traceparent(email.traceparent),
                                   kind=SpanKind.CLIENT, start_time=started)  # fmt: skip
    span.set_attributes({"server.address": server.host, "server.port": server.port, "network.protocol.name": "smtp",
                         "casefold.email.attempt": email.attempts + 1})  # fmt: skip
    span.set_attribute("casefold.email.id", str(email.id))
    span.set_attribute("casefold.email.result", outcome.result)
    if outcome.result != "sent":
        span.set_status(StatusCode.ERROR, outcome.error or "")
    span.end(end_time=outcome.ended_ns or time.time_ns())


@dataclass(frozen=True)
class RetryPolicy:
    initial_seconds: float = 2.0
    max_seconds: float = 600.0
    connect_max_seconds: float = 60.0
    waiting_sweep_seconds: float = 30.0


class DeliveryLoop(ListeningLoop):
    """Sends due emails until stopped, over one SMTP connection per lane (`senders`), the lanes concurrently.

    Each lane claims its own batch (FOR UPDATE SKIP LOCKED: lanes and workers never share a row), sends it over its
    own kept-alive connection and marks it, in one transaction. A wake-up (NOTIFY) goes to one idle lane; a lane that
    claimed a full batch wakes the next one before sending, so a burst spreads over every connection while a trickle
    keeps reusing one. While the server cannot be reached only the first lane tries it, on the loop's backoff.
    """

    task_name = "notifications-delivery"
    channel = outbox.CHANNEL

    def __init__(
        self,
        pool: asyncpg.Pool,
        senders: Sequence[SmtpSender],
        *,
        dsn: str | None = None,
        policy: RetryPolicy = RetryPolicy(),
        batch_size: int = 50,
        poll_seconds: float = 1.0,
        keepalive_seconds: float = 30.0,
    ) -> None:
        if not senders:
            raise ValueError("the delivery loop needs at least one SMTP sender")
        self.pool = pool
        self.policy = policy
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.keepalive_seconds = keepalive_seconds
        self.sent = 0
        self.unreachable = 0  # rounds in a row that could not reach the server
        self._next_sweep = 0.0
        self.lanes = [_Lane(self, sender, index) for index, sender in enumerate(senders)]
        super().__init__(dsn)

    async def stop(self) -> None:
        await super().stop()
        for lane in self.lanes:
            await lane.sender.close()

    def wake(self, *_: object) -> None:
        """One idle lane takes the new work (the first, while the server cannot be reached); with none idle, every
        lane looks again after its current round."""
        super().wake()
        candidates = self.lanes[:1] if self.unreachable else self.lanes
        idle = next((lane for lane in candidates if lane.idle), None)
        for lane in [idle] if idle is not None else self.lanes:
            lane.idle = False
            lane.woken.set()

    async def run(self) -> None:
        async with asyncio.TaskGroup() as lanes:
            for lane in self.lanes:
                lanes.create_task(lane.run(), name=f"{self.task_name}-{lane.index}")

    async def sweep_waiting(self) -> None:
        now = time.monotonic()
        if now < self._next_sweep:
            return
        self._next_sweep = now + self.policy.waiting_sweep_seconds
        async with self.pool.acquire() as conn, conn.transaction():
            released = await outbox.release_known_waiting(conn)
        if released:
            log.warning("waiting_emails_released", count=released)

    def reached(self, reached: bool) -> None:
        """After a round that tried the server: the loop's outage count, and the other lanes back to work."""
        if reached:
            was_unreachable, self.unreachable = self.unreachable, 0
            if was_unreachable:
                for lane in self.lanes:
                    lane.woken.set()
        else:
            self.unreachable += 1

    async def pause_lane(self, lane: _Lane, seconds: float) -> bool:
        """Wait up to seconds, until the lane is woken or the loop stops; True when stopping."""
        lane.idle = True
        waiters = [asyncio.ensure_future(self._stopping.wait()), asyncio.ensure_future(lane.woken.wait())]
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            lane.idle = False
            for waiter in waiters:
                waiter.cancel()
        self.beat()
        return self.stopping


class _Lane:
    """One SMTP connection's share of the delivery loop."""

    def __init__(self, loop: DeliveryLoop, sender: SmtpSender, index: int) -> None:
        self.loop = loop
        self.sender = sender
        self.index = index
        self.idle = False
        self.woken = asyncio.Event()

    async def run(self) -> None:
        loop = self.loop
        while not loop.stopping:
            loop.beat()
            if self.index and loop.unreachable:
                await loop.pause_lane(self, loop.poll_seconds)  # the first lane is probing: woken when it is back
                continue
            self.woken.clear()
            try:
                await loop.sweep_waiting()
                handled = await self.run_once()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("delivery_round_failed", lane=self.index, error=type(exc).__name__)
                handled = 0
            if loop.unreachable and not self.index:
                # A new email's wake-up cuts this short: one connection attempt per arrival at most.
                p = loop.policy
                await loop.pause_lane(self, retry_delay(loop.unreachable, loop.poll_seconds, p.connect_max_seconds))
                continue
            if handled >= loop.batch_size:
                continue  # more may be due right now
            await loop.pause_lane(self, loop.poll_seconds)
            await self.sender.close_if_idle(loop.keepalive_seconds)

    async def run_once(self) -> int:
        """Send one batch of due emails over this lane's connection; the number of emails attempted."""
        loop = self.loop
        async with loop.pool.acquire() as conn, conn.transaction():
            due = await outbox.claim_due(conn, loop.batch_size)
            if not due:
                return 0
            if len(due) >= loop.batch_size:
                loop.wake()  # more may be due: another lane claims the next batch while this one sends
            outcomes = await self.sender.send([compose(d.headers, d.text, d.html) for d in due])
            sent = [email.id for email, outcome in zip(due, outcomes, strict=True) if outcome.result == "sent"]
            await outbox.mark_sent(conn, sent)
            EMAILS_SENT.inc(len(sent))
            loop.sent += len(sent)
            untried = [email.id for email, outcome in zip(due, outcomes, strict=True) if outcome.result == "untried"]
            reached = len(untried) < len(due)
            loop.reached(reached)
            if untried:
                error = next(o.error for o in outcomes if o.result == "untried") or "not sent"
                await outbox.mark_untried(conn, untried, error)
                if not reached:
                    log.warning("smtp_unreachable", emails=len(untried), rounds=loop.unreachable, error=error)
            for email, outcome in zip(due, outcomes, strict=True):
                _trace(email, outcome, self.sender.config)
                if outcome.result in ("sent", "untried"):
                    continue
                attempts = email.attempts + 1
                EMAILS_FAILED.inc()
                error = outcome.error or "unknown error"
                if outcome.result == "failed":
                    await outbox.mark_failed(conn, email.id, error)
                    log.error("email_failed", email_id=str(email.id), attempts=attempts, error=error)
                else:
                    delay = jittered(retry_delay(attempts, loop.policy.initial_seconds, loop.policy.max_seconds))
                    await outbox.mark_retry(conn, email.id, error, delay)
                    log.warning("email_retry", email_id=str(email.id), attempts=attempts, retry_in=delay, error=error)
            # Untried emails are due again at once: the next round should not wait for them if the server is back.
            return len(due) - len(untried) if reached else len(due)
