"""The SLA worker: appends SlaWarning and SlaBreached to cases whose clock reached 80% of its target or passed it.

Each round reads the cases whose next signal is due (`sla_check_at <= now`, a partial index), and for each one, in
its own transaction like a command: folds its events, appends what is pending through the event store (so the
outbox publishes it) and projects it (the SLA columns, `sla_check_at` included, move on). A signal is appended at
most once: it is an event of the case, so the next fold sees it, and two workers racing on one case collide on the
stream version (the loser reloads and finds nothing left to do). A restart therefore never repeats one, and a
breach that passed while no worker ran is appended when one runs again (domain/sla.py: missed deadlines).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
import structlog

from casefold_events.contracts import Event, SlaBreached, SlaWarning
from casefold_events.envelope import Actor, Metadata
from casefold_events.loops import BackgroundLoop
from casefold_events.store import ConcurrencyError, Repository, in_transaction
from casefold_events.transient import TRANSIENT
from cases.adapters import sla_projection
from cases.adapters.projection import LIVE, hold_writer_lock, project
from cases.adapters.sla_clock import ControllableClock
from cases.domain.clock import Clock
from cases.domain.model import Case
from cases.domain.sla import SlaPolicy, evaluate

log = structlog.get_logger("cases.sla")

DUE_CASES = """
    SELECT id FROM case_summaries WHERE sla_check_at IS NOT NULL AND sla_check_at <= $1
    ORDER BY sla_check_at LIMIT $2
"""
NEXT_CHECK = "SELECT min(sla_check_at) FROM case_summaries WHERE sla_check_at IS NOT NULL"
SYSTEM = Actor(user_id=None, role="system")


async def signal_case(
    conn: asyncpg.Connection, repository: Repository[Case], policy: SlaPolicy, case_id: UUID, now: datetime
) -> list[Event]:
    """Append the signals of this case that are due by now (none when another worker already did); what it
    appended."""
    await hold_writer_lock(conn)
    case = await repository.load(conn, str(case_id))
    history = (await sla_projection.histories(conn, [str(case_id)])).get(str(case_id))
    clocks = evaluate(history, policy) if history is not None else None
    events: list[Event] = []
    for kind, clock in clocks.pending(now) if clocks is not None else []:
        # A missed breach (the clock stopped or paused after it, while no worker ran) names the deadline it missed.
        due_at = clock.deadline()
        assert due_at is not None, "pending names clocks with a deadline"
        made = SlaBreached if kind == "breached" else SlaWarning
        assignee = UUID(clocks.assignee_id) if clocks and clocks.assignee_id else None
        events.append(made(case_id=case_id, clock=clock.name, due_at=due_at, assignee_id=assignee))
    if events:
        await project(conn, await repository.save(conn, case, events, Metadata(actor=SYSTEM)), sla=policy)
    else:
        # Nothing pending although the schedule said so (the policy changed, or a racing worker won): reschedule.
        await sla_projection.refresh(conn, [str(case_id)], policy, LIVE.summaries)
    return events


class SlaWorker(BackgroundLoop):
    """Watches the SLA schedule: a round when the earliest check falls due, at least every poll_seconds."""

    task_name = "cases-sla"

    def __init__(
        self,
        pool: asyncpg.Pool,
        repository: Repository[Case],
        policy: SlaPolicy,
        clock: Clock,
        *,
        poll_seconds: float = 30.0,
        batch: int = 100,
    ) -> None:
        super().__init__()
        self.pool, self.repository, self.policy, self.clock = pool, repository, policy, clock
        self.poll_seconds, self.batch = poll_seconds, batch

    async def round(self) -> int:
        """One pass over at most `batch` due cases; how many cases it looked at."""
        if isinstance(self.clock, ControllableClock):
            await self.clock.refresh(self.pool)
        now = self.clock.now()
        rows = await self.pool.fetch(DUE_CASES, now, self.batch)
        for row in rows:
            case_id: UUID = row["id"]

            async def work(conn: asyncpg.Connection, case_id: UUID = case_id) -> list[Event]:
                return await signal_case(conn, self.repository, self.policy, case_id, now)

            try:
                appended = await in_transaction(self.pool, work)
            except ConcurrencyError:
                # Commands kept winning the race for this case; it is still due, so the next round retries it.
                log.info("sla_case_busy", case_id=str(case_id))
                continue
            except TRANSIENT:
                raise
            except Exception:
                # Nothing is marked done, so the case is retried every round; one broken case must not stop the
                # signals of every other.
                log.exception("sla_case_failed", case_id=str(case_id))
                continue
            for event in appended:
                log.info("sla_signal", event_type=event.event_type, case_id=str(case_id),
                         clock=getattr(event, "clock", None))  # fmt: skip
        return len(rows)

    async def _wait_seconds(self) -> float:
        if isinstance(self.clock, ControllableClock):
            # Another process may move the offset at any moment: poll, at least every second.
            return min(self.poll_seconds, 1.0)
        next_check: datetime | None = await self.pool.fetchval(NEXT_CHECK)
        if next_check is None:
            return self.poll_seconds
        return max(0.0, min(self.poll_seconds, (next_check - self.clock.now()).total_seconds()))

    async def run(self) -> None:
        while not self.stopping:
            try:
                full = await self.round() >= self.batch
                wait = 0.0 if full else await self._wait_seconds()
            except TRANSIENT as exc:
                log.warning("sla_round_failed", error=repr(exc))
                wait = self.poll_seconds
            if await self.pause(wait):
                return
