"""SLA clocks: targets per severity, business calendars, and the fold of a case's events into deadlines. No I/O.

Two clocks run from the moment a case opens: first response (stopped by the first public reply of an agent or
admin) and resolution (paused while the case waits on the customer, stopped when it closes). Each has a target
that depends on the case's severity and prioritisation, counted in business hours or around the clock.

`SlaHistory` keeps the few facts the clocks need, folded from the case's events in stream order (the aggregate,
the read-model projection and its rebuild all fold the same events, so they agree). `evaluate` turns a history
into deadlines under a policy; only `breached` and `remaining` need "now".

A severity change retargets the running clocks as if the case had had the new severity from the start: the time a
clock has run so far counts against the new target, measured in the new target's hours (so raising severity 3 to 1
after two hours is a breach at once, as in most service desks, and lowering it keeps the time already used). A
breach is final: a clock that was already past its deadline when the severity changed keeps that deadline, and a
lowered severity never erases it. A retarget re-arms the clock's warning (a new deadline is a new promise); the
breach is signalled once per clock per case.

A breach that happened while nobody watched (the SLA worker down when the deadline passed, and the first reply, or
the wait on the customer, came after it) is still due: a clock that stopped or paused after its deadline, with no
breach signalled, has one pending, dated by that deadline. Its warning is not sent then (after the breach it is
noise), nor for a closed case (SlaBreached is about open cases: nobody can act on a closed one).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

from casefold_events.contracts import (
    CaseAssigned,
    CaseClosed,
    CaseOpened,
    CommentAdded,
    Event,
    SeverityChanged,
    SlaBreached,
    SlaWarning,
    WaitingStateChanged,
)

ClockName = Literal["first_response", "resolution"]
SignalKind = Literal["warning", "breached"]
CLOCKS: tuple[ClockName, ...] = ("first_response", "resolution")
AGENT_ROLES = frozenset({"agent", "admin"})
# A calendar whose every day is a holiday would never end a target; ten years of days is where the search stops.
_MAX_DAYS = 3660
_ZERO = timedelta(0)


class Calendar(Protocol):
    """Counts working time: `add` finds when a duration of it has passed, `between` measures it."""

    def add(self, start: datetime, duration: timedelta) -> datetime: ...

    def between(self, start: datetime, end: datetime) -> timedelta: ...


class AroundTheClock:
    """24x7: every second counts."""

    def add(self, start: datetime, duration: timedelta) -> datetime:
        return start + max(duration, _ZERO)

    def between(self, start: datetime, end: datetime) -> timedelta:
        return max(end - start, _ZERO)


@dataclass(frozen=True)
class BusinessCalendar:
    """Business hours `opens`-`closes` (local wall time in `zone`; `closes` 00:00 means midnight at the day's end)
    on the ISO weekdays in `days` (1 Monday .. 7 Sunday), except `holidays`.

    Windows are computed per local day and converted to UTC, so a DST change shortens or lengthens only a window
    that spans it (wall-clock 09:00-17:00 is eight real hours on either side of a change at night).
    """

    zone: ZoneInfo
    opens: time = time(9)
    closes: time = time(17)
    days: frozenset[int] = frozenset({1, 2, 3, 4, 5})
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        if not self.days or not self.days <= {1, 2, 3, 4, 5, 6, 7}:
            raise ValueError("business days must be a non-empty set of ISO weekdays 1-7")
        if self.closes != time(0) and self.closes <= self.opens:
            raise ValueError("business hours must close after they open (overnight hours are not supported)")

    @property
    def day_length(self) -> timedelta:
        """The length of a business day on the wall clock (what "1 business day" of a target means)."""
        end = timedelta(hours=24) if self.closes == time(0) else _as_delta(self.closes)
        return end - _as_delta(self.opens)

    def _window(self, day: date) -> tuple[datetime, datetime] | None:
        if day.isoweekday() not in self.days or day in self.holidays:
            return None
        start = datetime.combine(day, self.opens, self.zone).astimezone(UTC)
        end_day = day + timedelta(days=1) if self.closes == time(0) else day
        end = datetime.combine(end_day, self.closes, self.zone).astimezone(UTC)
        return start, end

    def _windows_from(self, at: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The business windows that end after `at`, in order, the first one clipped to start at `at`."""
        day = at.astimezone(self.zone).date()
        for offset in range(_MAX_DAYS):
            window = self._window(day + timedelta(days=offset))
            if window is not None and window[1] > at:
                yield max(window[0], at), window[1]
        raise ValueError("no business hours within ten years: check the business days and holidays")

    def add(self, start: datetime, duration: timedelta) -> datetime:
        remaining = duration
        if remaining <= _ZERO:
            return start
        for opens, closes in self._windows_from(start):
            if remaining <= closes - opens:
                return opens + remaining
            remaining -= closes - opens
        raise AssertionError("unreachable: _windows_from raises when it runs out")

    def between(self, start: datetime, end: datetime) -> timedelta:
        total = _ZERO
        if end <= start:
            return total
        for opens, closes in self._windows_from(start):
            if opens >= end:
                break
            total += min(closes, end) - opens
        return total


def _as_delta(t: time) -> timedelta:
    return timedelta(hours=t.hour, minutes=t.minute, seconds=t.second)


@dataclass(frozen=True)
class Target:
    """How long each clock may run, and whether it counts business hours or every hour."""

    first_response: timedelta
    resolution: timedelta
    around_the_clock: bool = False

    def budget(self, clock: ClockName) -> timedelta:
        return self.first_response if clock == "first_response" else self.resolution


BERLIN_BUSINESS_HOURS = BusinessCalendar(ZoneInfo("Europe/Berlin"))
_DAY = BERLIN_BUSINESS_HOURS.day_length


@dataclass(frozen=True)
class SlaPolicy:
    """The targets per severity (and for prioritised cases), the business calendar, and when to warn."""

    severities: Mapping[int, Target] = field(
        default_factory=lambda: {
            1: Target(timedelta(hours=1), timedelta(hours=4), around_the_clock=True),
            2: Target(timedelta(hours=4), _DAY),
            3: Target(_DAY, 5 * _DAY),
        }
    )
    prioritised: Target = Target(timedelta(hours=1), timedelta(hours=4), around_the_clock=True)
    business: BusinessCalendar = BERLIN_BUSINESS_HOURS
    warn_ratio: float = 0.8

    def target(self, severity: int, prioritised: bool) -> Target:
        return self.prioritised if prioritised else self.severities[severity]

    def calendar(self, target: Target) -> Calendar:
        return _ALWAYS if target.around_the_clock else self.business


_ALWAYS = AroundTheClock()


# ----- the history: what the clocks need to know, folded from the case's events ------------------------------------


@dataclass(frozen=True)
class Regime:
    """From `since` on, the case had this severity and prioritisation."""

    since: datetime
    severity: int
    prioritised: bool


@dataclass(frozen=True)
class Signal:
    """A SlaWarning or SlaBreached already appended to the case."""

    at: datetime
    kind: SignalKind
    clock: ClockName


@dataclass
class SlaHistory:
    opened_at: datetime | None = None
    regimes: list[Regime] = field(default_factory=list)
    first_response_at: datetime | None = None
    # [start, end) of each wait on the customer; end None while it lasts
    waits: list[tuple[datetime, datetime | None]] = field(default_factory=list)
    closed_at: datetime | None = None
    assignee_id: str | None = None
    signals: list[Signal] = field(default_factory=list)

    def observe(self, event: Event, at: datetime) -> None:
        """Fold one event of the case (any type; the ones that do not concern the clocks are ignored)."""
        if isinstance(event, CaseOpened):
            self.opened_at = at
            self.regimes = [Regime(at, event.severity, event.prioritised)]
        elif isinstance(event, CommentAdded):
            public_reply = event.author_role in AGENT_ROLES and not event.internal
            if public_reply and self.first_response_at is None and self.closed_at is None:
                self.first_response_at = at
        elif isinstance(event, WaitingStateChanged):
            waiting = bool(self.waits) and self.waits[-1][1] is None
            if event.waiting_on == "customer" and not waiting:
                self.waits.append((at, None))
            elif event.waiting_on == "support" and waiting:
                self.waits[-1] = (self.waits[-1][0], at)
        elif isinstance(event, SeverityChanged):
            current = self.regimes[-1] if self.regimes else None
            if current is None or (current.severity, current.prioritised) != (event.to_severity, event.prioritised):
                self.regimes.append(Regime(at, event.to_severity, event.prioritised))
        elif isinstance(event, CaseAssigned):
            self.assignee_id = str(event.assignee_id) if event.assignee_id else None
        elif isinstance(event, CaseClosed):
            self.closed_at = at
        elif isinstance(event, SlaWarning | SlaBreached):
            kind: SignalKind = "warning" if isinstance(event, SlaWarning) else "breached"
            self.signals.append(Signal(at, kind, event.clock))

    @classmethod
    def of(cls, events: Sequence[tuple[datetime, Event]]) -> SlaHistory:
        history = cls()
        for at, event in events:
            history.observe(event, at)
        return history

    def to_json(self) -> dict[str, Any]:
        return {
            "opened_at": _iso(self.opened_at),
            "regimes": [[r.since.isoformat(), r.severity, r.prioritised] for r in self.regimes],
            "first_response_at": _iso(self.first_response_at),
            "waits": [[s.isoformat(), _iso(e)] for s, e in self.waits],
            "closed_at": _iso(self.closed_at),
            "assignee_id": self.assignee_id,
            "signals": [[s.at.isoformat(), s.kind, s.clock] for s in self.signals],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SlaHistory:
        return cls(
            opened_at=_dt(data["opened_at"]),
            regimes=[Regime(datetime.fromisoformat(s), sev, p) for s, sev, p in data["regimes"]],
            first_response_at=_dt(data["first_response_at"]),
            waits=[(datetime.fromisoformat(s), _dt(e)) for s, e in data["waits"]],
            closed_at=_dt(data["closed_at"]),
            assignee_id=data["assignee_id"],
            signals=[Signal(datetime.fromisoformat(at), kind, clock) for at, kind, clock in data["signals"]],
        )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


# ----- evaluation: deadlines under a policy --------------------------------------------------------------------------

Run = tuple[datetime, datetime | None]


@dataclass(frozen=True)
class ClockState:
    """One clock under the policy. `due_at` is None only while the resolution clock is paused (`overdue_since`: the
    deadline it had passed before it paused, if it had)."""

    name: ClockName
    due_at: datetime | None
    warn_at: datetime | None
    stopped_at: datetime | None  # the first response, or the close
    paused: bool
    paused_remaining: timedelta | None  # what was left when it paused (negative: overdue)
    breached_before_retarget: bool
    armed_since: datetime  # when its current target began: warnings before this were about an older target
    calendar: Calendar
    overdue_since: datetime | None = None

    @property
    def running(self) -> bool:
        return self.stopped_at is None and not self.paused

    @property
    def missed_deadline(self) -> datetime | None:
        """The deadline a clock that no longer runs had passed before it stopped or paused; None if it had not."""
        if self.paused:
            return self.overdue_since
        if self.stopped_at is not None and self.due_at is not None and self.stopped_at > self.due_at:
            return self.due_at
        return None

    def deadline(self) -> datetime | None:
        """The deadline a signal of this clock names: the running one, or the one it missed."""
        return self.due_at if self.running else self.missed_deadline

    def breached(self, now: datetime) -> bool:
        if self.breached_before_retarget:
            return True
        if self.paused:
            return self.paused_remaining is not None and self.paused_remaining <= _ZERO
        if self.due_at is None:  # closed before its budget was used up
            return False
        return self.stopped_at > self.due_at if self.stopped_at is not None else now >= self.due_at

    def remaining(self, now: datetime) -> timedelta | None:
        """Working time left (negative: overdue by that much); frozen while paused; None once stopped. (The API's
        countdown to a running deadline is wall-clock time instead: domain/views.py sla_view.)"""
        if self.paused:
            return self.paused_remaining
        if self.stopped_at is not None or self.due_at is None:
            return None
        if now <= self.due_at:
            return self.calendar.between(now, self.due_at)
        return -self.calendar.between(self.due_at, now)


@dataclass(frozen=True)
class SlaClocks:
    first_response: ClockState
    resolution: ClockState
    assignee_id: str | None
    signals: tuple[Signal, ...]

    @property
    def closed(self) -> bool:
        return self.resolution.stopped_at is not None

    @property
    def next_deadline_at(self) -> datetime | None:
        """The earliest deadline of a running clock (past ones included: a breach is the most urgent)."""
        dues = [c.due_at for c in (self.first_response, self.resolution) if c.running and c.due_at is not None]
        return min(dues, default=None)

    def _signalled(self, clock: ClockState, kind: SignalKind) -> bool:
        return any(
            s.clock == clock.name and s.kind == kind and (kind == "breached" or s.at >= clock.armed_since)
            for s in self.signals
        )

    def pending(self, now: datetime) -> list[tuple[SignalKind, ClockState]]:
        """The signals due by now and not yet appended: a breach, or else a warning (not both: a warning after the
        deadline has passed would only be noise). A clock that stopped or paused after its deadline unsignalled
        has its breach pending (see the module's docstring)."""
        due: list[tuple[SignalKind, ClockState]] = []
        for clock in self._watched():
            deadline = clock.deadline()
            assert deadline is not None, "_watched keeps the clocks with a deadline"
            if now >= deadline:
                due.append(("breached", clock))
            elif self._warning_due(clock) and clock.warn_at is not None and now >= clock.warn_at:
                due.append(("warning", clock))
        return due

    @property
    def next_check_at(self) -> datetime | None:
        """When the next signal falls due (what the SLA worker's index is ordered by); None: nothing to watch."""
        moments: list[datetime] = []
        for clock in self._watched():
            deadline = clock.deadline()
            assert deadline is not None, "_watched keeps the clocks with a deadline"
            moments.append(deadline)
            if self._warning_due(clock) and clock.warn_at is not None and clock.warn_at < deadline:
                moments.append(clock.warn_at)
        return min(moments, default=None)

    def _warning_due(self, clock: ClockState) -> bool:
        """Whether the clock's warning may still be sent: it runs (a stopped one needs none) and was not warned."""
        return clock.running and not self._signalled(clock, "warning")

    def _watched(self) -> list[ClockState]:
        """The clocks of an open case whose breach may still be signalled: running ones, and missed deadlines."""
        if self.closed:
            return []
        return [
            clock
            for clock in (self.first_response, self.resolution)
            if clock.deadline() is not None and not self._signalled(clock, "breached")
        ]


def _deadline(runs: Sequence[Run], budget: timedelta, calendar: Calendar) -> datetime | None:
    """When the clock, running over these intervals (the last may be open), has used `budget`; None if it has not
    by the end of a closed last interval."""
    for start, end in runs:
        if end is None:
            return calendar.add(start, budget)
        length = calendar.between(start, end)
        if budget <= length:
            return calendar.add(start, budget)
        budget -= length
    return None


def _clip(runs: Sequence[Run], until: datetime) -> list[Run]:
    return [(s, until if e is None or e > until else e) for s, e in runs if s < until]


def _used(runs: Sequence[Run], calendar: Calendar) -> timedelta:
    return sum((calendar.between(s, e) for s, e in runs if e is not None), _ZERO)


def _clock(
    name: ClockName, history: SlaHistory, policy: SlaPolicy, runs: list[Run], stopped_at: datetime | None
) -> ClockState:
    regimes = [r for r in history.regimes if stopped_at is None or r.since < stopped_at] or history.regimes[:1]
    current = regimes[0]
    breached_target: Target | None = None
    for change in regimes[1:]:
        target = policy.target(current.severity, current.prioritised)
        if _deadline(_clip(runs, change.since), target.budget(name), policy.calendar(target)) is not None:
            breached_target = target  # final: the deadline it missed stays its deadline
            break
        current = change
    target = breached_target or policy.target(current.severity, current.prioritised)
    calendar, budget = policy.calendar(target), target.budget(name)
    due = _deadline(runs, budget, calendar)
    warn = None if breached_target else _deadline(runs, budget * policy.warn_ratio, calendar)
    if stopped_at is None and runs[-1][1] is not None:
        return ClockState(name, None, None, None, True, budget - _used(runs, calendar), breached_target is not None,
                          current.since, calendar, overdue_since=due)  # fmt: skip
    return ClockState(name, due, warn, stopped_at, False, None, breached_target is not None, current.since, calendar)


def evaluate(history: SlaHistory, policy: SlaPolicy) -> SlaClocks | None:
    """The clocks of a case under the policy; None before the case opened."""
    opened = history.opened_at
    if opened is None or not history.regimes:
        return None
    closed = history.closed_at
    first_stop = min((t for t in (history.first_response_at, closed) if t is not None), default=None)
    first = _clock("first_response", history, policy, [(opened, None)], first_stop)
    resolution = _clock("resolution", history, policy, _resolution_runs(history, opened), closed)
    return SlaClocks(first, resolution, history.assignee_id, tuple(history.signals))


def _resolution_runs(history: SlaHistory, opened: datetime) -> list[Run]:
    """The intervals the resolution clock ran: from the open, minus the waits on the customer, until the close."""
    runs: list[Run] = []
    start: datetime | None = opened
    for wait_start, wait_end in history.waits:
        if start is not None and wait_start > start:
            runs.append((start, wait_start))
        start = wait_end
    if start is not None:
        runs.append((start, None))
    if history.closed_at is not None:
        runs = _clip(runs, history.closed_at) or [(opened, opened)]
    return runs or [(opened, opened)]
