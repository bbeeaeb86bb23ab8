"""SLA clocks: business calendars (weekends, DST, holidays), targets per severity, and the fold of case events."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

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
from cases.domain.sla import AroundTheClock, BusinessCalendar, SlaHistory, SlaPolicy, Target, evaluate

BERLIN = ZoneInfo("Europe/Berlin")
BUSINESS = BusinessCalendar(BERLIN)
POLICY = SlaPolicy()
CASE = uuid.uuid4()
AGENT = uuid.uuid4()
CUSTOMER = uuid.uuid4()
H = timedelta(hours=1)


def berlin(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=BERLIN).astimezone(UTC)


# ----- the business calendar -------------------------------------------------------------------------------------


def test_business_time_within_one_day_is_wall_clock_time() -> None:
    assert BUSINESS.add(berlin(2026, 12, 2, 10), 4 * H) == berlin(2026, 12, 2, 14)


def test_time_outside_business_hours_waits_for_the_next_opening() -> None:
    assert BUSINESS.add(berlin(2026, 12, 2, 20), H) == berlin(2026, 12, 3, 10)
    assert BUSINESS.add(berlin(2026, 12, 2, 6), H) == berlin(2026, 12, 2, 10)


def test_a_friday_afternoon_target_lands_on_monday() -> None:
    friday = berlin(2026, 12, 4, 15)
    assert BUSINESS.add(friday, 4 * H) == berlin(2026, 12, 7, 11)
    assert BUSINESS.between(friday, berlin(2026, 12, 7, 11)) == 4 * H


def test_the_weekend_counts_nothing() -> None:
    assert BUSINESS.between(berlin(2026, 12, 5, 8), berlin(2026, 12, 6, 23)) == timedelta(0)


def test_a_deadline_exactly_at_closing_time_stays_on_that_day() -> None:
    assert BUSINESS.add(berlin(2026, 12, 2, 9), 8 * H) == berlin(2026, 12, 2, 17)


def test_one_business_day_is_the_length_of_the_business_hours() -> None:
    assert BUSINESS.day_length == 8 * H
    assert BusinessCalendar(BERLIN, opens=time(8), closes=time(0)).day_length == 16 * H


def test_business_hours_are_local_wall_time_on_both_sides_of_the_spring_dst_change() -> None:
    # 2027-03-26 is a Friday; Berlin moves from UTC+1 to UTC+2 on Sunday 28 March.
    friday = berlin(2027, 3, 26, 16)
    assert friday == datetime(2027, 3, 26, 15, tzinfo=UTC)
    due = BUSINESS.add(friday, 2 * H)
    assert due == berlin(2027, 3, 29, 10)
    assert due == datetime(2027, 3, 29, 8, tzinfo=UTC)


def test_business_hours_are_local_wall_time_after_the_autumn_dst_change() -> None:
    # Berlin moves back from UTC+2 to UTC+1 on Sunday 25 October 2026.
    due = BUSINESS.add(berlin(2026, 10, 23, 16), 2 * H)
    assert due == datetime(2026, 10, 26, 9, tzinfo=UTC)


def test_a_window_spanning_the_dst_change_counts_real_hours() -> None:
    around = BusinessCalendar(BERLIN, opens=time(0), closes=time(0), days=frozenset(range(1, 8)))
    assert around.between(berlin(2027, 3, 28), berlin(2027, 3, 29)) == 23 * H
    assert around.between(berlin(2026, 10, 25), berlin(2026, 10, 26)) == 25 * H


def test_holidays_count_nothing() -> None:
    christmas = BusinessCalendar(BERLIN, holidays=frozenset({date(2026, 12, 24), date(2026, 12, 25)}))
    assert christmas.add(berlin(2026, 12, 23, 16), 2 * H) == berlin(2026, 12, 28, 10)


def test_around_the_clock_counts_every_hour() -> None:
    clock = AroundTheClock()
    saturday = berlin(2026, 12, 5, 3)
    assert clock.add(saturday, 4 * H) == saturday + 4 * H
    assert clock.between(saturday, saturday + 4 * H) == 4 * H


INSTANTS = st.datetimes(datetime(2026, 1, 1), datetime(2028, 12, 31), timezones=st.just(UTC))
DURATIONS = st.integers(0, 60 * 24 * 30).map(lambda m: timedelta(minutes=m))


@given(start=INSTANTS, duration=DURATIONS)
def test_adding_then_measuring_gives_back_the_duration(start: datetime, duration: timedelta) -> None:
    assert BUSINESS.between(start, BUSINESS.add(start, duration)) == duration


@given(a=INSTANTS, b=INSTANTS, c=INSTANTS)
def test_business_time_adds_up_over_consecutive_intervals(a: datetime, b: datetime, c: datetime) -> None:
    a, b, c = sorted((a, b, c))
    assert BUSINESS.between(a, b) + BUSINESS.between(b, c) == BUSINESS.between(a, c)
    assert BUSINESS.between(a, c) <= c - a


@given(start=INSTANTS, duration=st.integers(1, 60 * 24 * 30).map(lambda m: timedelta(minutes=m)))
def test_a_deadline_falls_within_business_hours(start: datetime, duration: timedelta) -> None:
    due = BUSINESS.add(start, duration).astimezone(BERLIN)
    assert due.isoweekday() <= 5
    assert time(9) < due.time() <= time(17) or due.time() == time(17)


# ----- targets -----------------------------------------------------------------------------------------------------


def test_default_targets_follow_severity_and_prioritisation() -> None:
    assert POLICY.target(1, False) == Target(H, 4 * H, around_the_clock=True)
    assert POLICY.target(2, False) == Target(4 * H, 8 * H)
    assert POLICY.target(3, False) == Target(8 * H, 40 * H)
    assert POLICY.target(3, True) == POLICY.prioritised == Target(H, 4 * H, around_the_clock=True)


# ----- the fold ----------------------------------------------------------------------------------------------------


def opened(severity: int = 3, prioritised: bool = False) -> CaseOpened:
    return CaseOpened(
        case_id=CASE, number=1, product_id="p", product_name="P", subject="Slow", description="d", severity=severity,
        prioritised=prioritised, opened_by=CUSTOMER, opened_by_role="customer",
    )  # fmt: skip


def reply(internal: bool = False, role: str = "agent") -> CommentAdded:
    return CommentAdded(case_id=CASE, comment_id=uuid.uuid4(), author_id=AGENT, author_role=role, body="On it",
                        internal=internal)  # fmt: skip


def waiting(on: str) -> WaitingStateChanged:
    return WaitingStateChanged(case_id=CASE, waiting_on=on, changed_by=AGENT, changed_by_role="agent")


def severity(to: int, prioritised: bool = False, was: int = 3) -> SeverityChanged:
    return SeverityChanged(case_id=CASE, from_severity=was, to_severity=to, prioritised=prioritised, reason="r",
                           changed_by=AGENT, changed_by_role="agent")  # fmt: skip


def clocks(*events: tuple[datetime, Event], policy: SlaPolicy = POLICY):  # type: ignore[no-untyped-def]
    result = evaluate(SlaHistory.of(list(events)), policy)
    assert result is not None
    return result


MONDAY_10 = berlin(2026, 12, 7, 10)


def test_a_minor_case_gets_a_business_day_to_first_response_and_five_to_resolution() -> None:
    c = clocks((MONDAY_10, opened(3)))
    assert c.first_response.due_at == berlin(2026, 12, 8, 10)
    assert c.resolution.due_at == berlin(2026, 12, 14, 10)
    assert c.next_deadline_at == c.first_response.due_at


def test_a_critical_case_counts_around_the_clock_even_at_the_weekend() -> None:
    saturday = berlin(2026, 12, 5, 23)
    c = clocks((saturday, opened(1)))
    assert c.first_response.due_at == saturday + H
    assert c.resolution.due_at == saturday + 4 * H


def test_a_prioritised_case_has_the_critical_targets_whatever_its_severity() -> None:
    c = clocks((MONDAY_10, opened(3, prioritised=True)))
    assert c.first_response.due_at == MONDAY_10 + H


def test_the_first_public_agent_reply_stops_the_first_response_clock() -> None:
    c = clocks((MONDAY_10, opened(2)), (MONDAY_10 + H, reply()))
    assert c.first_response.stopped_at == MONDAY_10 + H
    assert not c.first_response.breached(MONDAY_10 + 10 * H)
    assert c.next_deadline_at == c.resolution.due_at


def test_internal_notes_and_customer_comments_are_no_first_response() -> None:
    c = clocks((MONDAY_10, opened(2)), (MONDAY_10 + H, reply(internal=True)), (MONDAY_10 + H, reply(role="customer")))
    assert c.first_response.stopped_at is None
    assert c.first_response.breached(MONDAY_10 + 4 * H)


def test_a_late_first_response_is_a_breach() -> None:
    c = clocks((MONDAY_10, opened(1)), (MONDAY_10 + 2 * H, reply()))
    assert c.first_response.breached(MONDAY_10 + 2 * H)


def test_waiting_on_the_customer_pauses_the_resolution_clock_and_freezes_what_is_left() -> None:
    c = clocks((MONDAY_10, opened(1)), (MONDAY_10 + H, waiting("customer")))
    assert c.resolution.paused
    assert c.resolution.due_at is None
    assert c.resolution.remaining(MONDAY_10 + 50 * H) == 3 * H
    assert not c.resolution.breached(MONDAY_10 + 50 * H)


def test_the_customer_answering_resumes_the_clock_with_the_time_that_was_left() -> None:
    c = clocks((MONDAY_10, opened(1)), (MONDAY_10 + H, waiting("customer")), (MONDAY_10 + 11 * H, waiting("support")))
    assert c.resolution.due_at == MONDAY_10 + 14 * H
    assert c.resolution.remaining(MONDAY_10 + 12 * H) == 2 * H


def test_a_pause_over_the_weekend_resumes_in_business_hours() -> None:
    friday_16 = berlin(2026, 12, 4, 16)
    c = clocks((friday_16, opened(2)), (friday_16 + H, waiting("customer")),
               (berlin(2026, 12, 7, 8), waiting("support")))  # fmt: skip
    # 1 h of the 8 h target was used before the pause: 7 h from Monday 09:00.
    assert c.resolution.due_at == berlin(2026, 12, 7, 16)


def test_closing_stops_every_clock() -> None:
    c = clocks((MONDAY_10, opened(1)), (MONDAY_10 + H / 2, CaseClosed(case_id=CASE, closed_by=AGENT,
                                                                     closed_by_role="agent")))  # fmt: skip
    assert c.closed
    assert c.next_deadline_at is None
    assert c.pending(MONDAY_10 + 100 * H) == []
    assert c.next_check_at is None


def test_raising_severity_counts_the_time_already_used_against_the_new_target() -> None:
    c = clocks((MONDAY_10, opened(3)), (MONDAY_10 + 30 * timedelta(minutes=1), severity(1)))
    assert c.first_response.due_at == MONDAY_10 + H
    assert c.resolution.due_at == MONDAY_10 + 4 * H


def test_raising_severity_late_is_a_breach_at_once() -> None:
    c = clocks((MONDAY_10, opened(3)), (MONDAY_10 + 2 * H, severity(1)))
    assert c.first_response.due_at == MONDAY_10 + H
    assert [(kind, clock.name) for kind, clock in c.pending(MONDAY_10 + 2 * H)] == [("breached", "first_response")]


def test_lowering_severity_keeps_the_time_used_and_moves_to_business_hours() -> None:
    c = clocks((MONDAY_10, opened(1)), (MONDAY_10 + H / 2, severity(3, was=1)))
    assert c.first_response.due_at == berlin(2026, 12, 8, 10)


def test_a_breach_is_final_even_when_severity_is_lowered_afterwards() -> None:
    c = clocks((MONDAY_10, opened(1)), (MONDAY_10 + 2 * H, severity(3, was=1)))
    assert c.first_response.due_at == MONDAY_10 + H
    assert c.first_response.breached(MONDAY_10 + 2 * H)


def test_the_worker_warns_at_80_percent_then_signals_the_breach() -> None:
    history = SlaHistory.of([(MONDAY_10, opened(1))])
    c = evaluate(history, POLICY)
    assert c is not None
    assert c.next_check_at == MONDAY_10 + 48 * timedelta(minutes=1)
    assert c.pending(MONDAY_10 + 47 * timedelta(minutes=1)) == []
    [(kind, clock)] = c.pending(MONDAY_10 + 48 * timedelta(minutes=1))
    assert (kind, clock.name, clock.due_at) == ("warning", "first_response", MONDAY_10 + H)

    history.observe(SlaWarning(case_id=CASE, clock="first_response", due_at=MONDAY_10 + H, assignee_id=None),
                    MONDAY_10 + 48 * timedelta(minutes=1))  # fmt: skip
    c = evaluate(history, POLICY)
    assert c is not None
    assert c.pending(MONDAY_10 + 50 * timedelta(minutes=1)) == []
    assert c.next_check_at == MONDAY_10 + H
    assert [k for k, _ in c.pending(MONDAY_10 + H)] == ["breached"]

    history.observe(SlaBreached(case_id=CASE, clock="first_response", due_at=MONDAY_10 + H, assignee_id=None),
                    MONDAY_10 + H)  # fmt: skip
    c = evaluate(history, POLICY)
    assert c is not None
    assert [clock.name for _, clock in c.pending(MONDAY_10 + 10 * H)] == ["resolution"]
    assert all(clock.name != "first_response" for _, clock in c.pending(MONDAY_10 + 100 * H))


def test_a_retarget_rearms_the_warning() -> None:
    minute = timedelta(minutes=1)
    warning = SlaWarning(case_id=CASE, clock="first_response", due_at=MONDAY_10 + 4 * H, assignee_id=None)
    events: list[tuple[datetime, Event]] = [
        (MONDAY_10, opened(2)),
        (MONDAY_10 + 192 * minute, warning),
        (MONDAY_10 + 210 * minute, severity(3, was=2)),
    ]
    c = clocks(*events)
    # 8 business hours from Monday 10:00, 80% of them at 16:24.
    assert c.first_response.due_at == berlin(2026, 12, 8, 10)
    assert c.first_response.warn_at == berlin(2026, 12, 7, 16, 24)
    assert c.pending(berlin(2026, 12, 7, 16)) == []
    assert [(k, clock.name) for k, clock in c.pending(berlin(2026, 12, 7, 16, 24))] == [("warning", "first_response")]


def test_a_clock_already_due_when_severity_changes_keeps_its_deadline() -> None:
    c = clocks((MONDAY_10, opened(2)), (MONDAY_10 + 4 * H, severity(3, was=2)))
    assert c.first_response.due_at == MONDAY_10 + 4 * H
    assert c.first_response.warn_at is None


def test_a_paused_clock_is_not_watched() -> None:
    c = clocks((MONDAY_10, opened(1)), (MONDAY_10 + H / 2, reply()), (MONDAY_10 + H, waiting("customer")))
    assert c.next_check_at is None
    assert c.pending(MONDAY_10 + 100 * H) == []


def test_a_first_reply_after_the_deadline_unwatched_leaves_its_breach_pending_dated_by_the_deadline() -> None:
    # The worker was down from before the 80% point until after the reply: neither signal was appended.
    history = SlaHistory.of([(MONDAY_10, opened(1)), (MONDAY_10 + 2 * H, reply())])
    c = evaluate(history, POLICY)
    assert c is not None
    assert c.first_response.missed_deadline == MONDAY_10 + H
    assert c.next_check_at == MONDAY_10 + H
    # The breach only: a warning after it would be noise.
    assert [(k, clock.name, clock.deadline()) for k, clock in c.pending(MONDAY_10 + 3 * H)] == [
        ("breached", "first_response", MONDAY_10 + H)
    ]

    history.observe(SlaBreached(case_id=CASE, clock="first_response", due_at=MONDAY_10 + H, assignee_id=None),
                    MONDAY_10 + 3 * H)  # fmt: skip
    c = evaluate(history, POLICY)
    assert c is not None
    assert c.pending(MONDAY_10 + 3 * H) == []
    assert c.next_check_at == c.resolution.warn_at


def test_a_first_reply_in_time_leaves_nothing_pending_for_that_clock() -> None:
    c = clocks((MONDAY_10, opened(1)), (MONDAY_10 + H / 2, reply()))
    assert c.first_response.missed_deadline is None
    assert all(clock.name != "first_response" for _, clock in c.pending(MONDAY_10 + 100 * H))


def test_a_wait_on_the_customer_begun_after_the_deadline_unwatched_leaves_its_breach_pending() -> None:
    c = clocks((MONDAY_10, opened(1)), (MONDAY_10 + H / 2, reply()), (MONDAY_10 + 5 * H, waiting("customer")))
    assert c.resolution.paused
    assert c.resolution.missed_deadline == MONDAY_10 + 4 * H
    assert [(k, clock.name, clock.deadline()) for k, clock in c.pending(MONDAY_10 + 6 * H)] == [
        ("breached", "resolution", MONDAY_10 + 4 * H)
    ]


def test_a_case_closed_after_its_deadline_unwatched_signals_nothing() -> None:
    closed = CaseClosed(case_id=CASE, closed_by=AGENT, closed_by_role="agent")
    c = clocks((MONDAY_10, opened(1)), (MONDAY_10 + 2 * H, reply()), (MONDAY_10 + 5 * H, closed))
    assert c.first_response.breached(MONDAY_10 + 6 * H)
    assert c.pending(MONDAY_10 + 6 * H) == []
    assert c.next_check_at is None


def test_the_assignee_is_folded_for_the_signals() -> None:
    c = clocks((MONDAY_10, opened(1)), (MONDAY_10, CaseAssigned(case_id=CASE, assignee_id=AGENT,
               previous_assignee_id=None, assigned_by=AGENT, assigned_by_role="agent")))  # fmt: skip
    assert c.assignee_id == str(AGENT)


EVENT_STEPS = st.lists(
    st.tuples(
        st.integers(1, 60 * 24 * 3).map(lambda m: timedelta(minutes=m)),
        st.sampled_from(["reply", "note", "wait", "resume", "sev1", "sev2", "sev3"]),
    ),
    max_size=8,
)


def _events(start: datetime, steps: list[tuple[timedelta, str]]) -> list[tuple[datetime, Event]]:
    events: list[tuple[datetime, Event]] = [(start, opened(3))]
    at = start
    for gap, step in steps:
        at += gap
        made: Event = {
            "reply": reply(), "note": reply(internal=True), "wait": waiting("customer"), "resume": waiting("support"),
            "sev1": severity(1), "sev2": severity(2), "sev3": severity(3),
        }[step]  # fmt: skip
        events.append((at, made))
    return events


@given(start=INSTANTS, steps=EVENT_STEPS)
def test_the_history_survives_its_json_form_and_gives_the_same_deadlines(
    start: datetime, steps: list[tuple[timedelta, str]]
) -> None:
    history = SlaHistory.of(_events(start, steps))
    again = SlaHistory.from_json(history.to_json())
    assert again == history
    assert evaluate(again, POLICY) == evaluate(history, POLICY)


@given(start=INSTANTS, steps=EVENT_STEPS)
def test_a_running_clock_is_due_no_earlier_than_its_80_percent_point(
    start: datetime, steps: list[tuple[timedelta, str]]
) -> None:
    c = evaluate(SlaHistory.of(_events(start, steps)), POLICY)
    assert c is not None
    for clock in (c.first_response, c.resolution):
        if clock.due_at is not None and clock.warn_at is not None:
            assert clock.warn_at <= clock.due_at
        if clock.paused:
            assert clock.due_at is None
            assert clock.remaining(start) is not None
    check = c.next_check_at
    if check is not None:
        assert c.pending(check) != []
        assert c.pending(check - timedelta(microseconds=1)) == []
