"""The agents' rules of the Case aggregate: assignment, waiting states, severity changes; folded state and snapshots."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from cases_builders import agent, customer, fold, opened_case

from casefold_events.contracts import CaseAssigned, CommentAdded, Event, SeverityChanged, WaitingStateChanged
from casefold_platform.problems import InvalidInput
from cases.domain.commands import AddComment, AssignCase, Caller, ChangeSeverity, SetWaiting
from cases.domain.errors import CaseIsClosed, CaseNotFound, NotAllowed
from cases.domain.model import Case


def _id(case: Case) -> uuid.UUID:
    return uuid.UUID(case.id)


def _field(caught: pytest.ExceptionInfo[InvalidInput]) -> str:
    field: str = caught.value.extensions["errors"][0]["field"]
    return field


def _comment(case: Case, internal: bool = False) -> AddComment:
    return AddComment(case_id=_id(case), comment_id=uuid.uuid4(), body="here you go", internal=internal)


def test_a_new_case_waits_on_support_and_is_unassigned() -> None:
    case = opened_case()

    assert case.state.waiting_on == "support"
    assert case.state.assignee_id is None


def test_an_agent_takes_gives_and_unassigns_a_case() -> None:
    case, me, other = opened_case(), agent(), agent()

    [taken] = case.assign(AssignCase(_id(case), me.user_id), me, assignee_is_agent=True)
    fold(case, [taken])
    [given] = case.assign(AssignCase(_id(case), other.user_id), me, assignee_is_agent=True)
    fold(case, [given])
    [dropped] = case.assign(AssignCase(_id(case), None), other, assignee_is_agent=False)
    fold(case, [dropped])

    assert isinstance(taken, CaseAssigned)
    assert (taken.assignee_id, taken.previous_assignee_id, taken.assigned_by) == (me.user_id, None, me.user_id)
    assert isinstance(given, CaseAssigned)
    assert (given.assignee_id, given.previous_assignee_id) == (other.user_id, me.user_id)
    assert isinstance(dropped, CaseAssigned)
    assert (dropped.assignee_id, dropped.previous_assignee_id, dropped.assigned_by_role) == (None, other.user_id,
                                                                                            "agent")  # fmt: skip
    assert case.state.assignee_id is None


def test_assigning_to_someone_who_is_no_agent_names_the_field() -> None:
    case = opened_case()

    with pytest.raises(InvalidInput) as caught:
        case.assign(AssignCase(_id(case), uuid.uuid4()), agent(), assignee_is_agent=False)

    assert _field(caught) == "assignee_id"


def test_assigning_to_the_current_assignee_changes_nothing() -> None:
    case, me = opened_case(), agent()
    fold(case, case.assign(AssignCase(_id(case), me.user_id), me, assignee_is_agent=True))

    assert case.assign(AssignCase(_id(case), me.user_id), me, assignee_is_agent=True) == []


def test_assignment_is_no_activity_for_the_customer() -> None:
    case, me = opened_case(), agent()
    before = case.state.last_activity_at

    fold(case, case.assign(AssignCase(_id(case), me.user_id), me, assignee_is_agent=True))

    assert case.state.last_activity_at == before


def test_the_owner_may_not_use_agent_commands_and_a_stranger_does_not_see_the_case() -> None:
    owner = customer()
    case = opened_case(owner)
    commands: list[Callable[[Caller], list[Event]]] = [
        lambda who: case.assign(AssignCase(_id(case), who.user_id), who, assignee_is_agent=True),
        lambda who: case.set_waiting(SetWaiting(_id(case), "customer"), who),
        lambda who: case.change_severity(ChangeSeverity(_id(case), 1, "worse"), who),
    ]

    for command in commands:
        with pytest.raises(NotAllowed):
            command(owner)
        with pytest.raises(CaseNotFound):
            command(customer())


def test_agent_commands_on_a_closed_case_are_refused() -> None:
    me = agent()
    case = opened_case()
    fold(case, case.close(me))

    assert case.state.waiting_on is None
    with pytest.raises(CaseIsClosed):
        case.assign(AssignCase(_id(case), me.user_id), me, assignee_is_agent=True)
    with pytest.raises(CaseIsClosed):
        case.set_waiting(SetWaiting(_id(case), "customer"), me)
    with pytest.raises(CaseIsClosed):
        case.change_severity(ChangeSeverity(_id(case), 1, "worse"), me)


def test_the_customers_comment_puts_a_case_waiting_on_them_back_to_support() -> None:
    owner, me = customer(), agent()
    case = opened_case(owner)
    fold(case, case.set_waiting(SetWaiting(_id(case), "customer"), me))
    assert case.state.waiting_on == "customer"

    events = case.add_comment(_comment(case), owner)
    fold(case, events)

    assert [type(e) for e in events] == [CommentAdded, WaitingStateChanged]
    back = events[1]
    assert isinstance(back, WaitingStateChanged)
    assert (back.waiting_on, back.changed_by, back.changed_by_role) == ("support", owner.user_id, "customer")
    assert _waiting_on(case) == "support"


@pytest.mark.parametrize("internal", [False, True])
def test_an_agents_comment_leaves_the_waiting_state_alone(internal: bool) -> None:
    me = agent()
    case = opened_case()
    fold(case, case.set_waiting(SetWaiting(_id(case), "customer"), me))

    events = case.add_comment(_comment(case, internal=internal), me)

    assert [type(e) for e in events] == [CommentAdded]


def test_a_customers_comment_on_a_case_waiting_on_support_emits_only_the_comment() -> None:
    owner = customer()
    case = opened_case(owner)

    assert [type(e) for e in case.add_comment(_comment(case), owner)] == [CommentAdded]


def test_setting_the_same_waiting_state_changes_nothing() -> None:
    case = opened_case()

    assert case.set_waiting(SetWaiting(_id(case), "support"), agent()) == []


def test_a_severity_change_records_from_to_reason_and_who() -> None:
    me = agent()
    case = opened_case(severity=3)

    [event] = case.change_severity(ChangeSeverity(_id(case), 1, "  all users affected  "), me)
    fold(case, [event])

    assert isinstance(event, SeverityChanged)
    assert (event.from_severity, event.to_severity, event.prioritised) == (3, 1, False)
    assert event.reason == "all users affected"
    assert (event.changed_by, event.changed_by_role) == (me.user_id, "agent")
    assert case.state.severity == 1
    [change] = case.state.severity_changes
    assert (change.from_severity, change.to_severity, change.reason) == (3, 1, "all users affected")


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
def test_a_severity_change_needs_a_reason_of_at_most_500_characters(reason: str) -> None:
    case = opened_case(severity=3)

    with pytest.raises(InvalidInput) as caught:
        case.change_severity(ChangeSeverity(_id(case), 1, reason), agent())

    assert _field(caught) == "reason"


def test_an_agent_lowers_a_production_down_case_with_a_reason() -> None:
    case = opened_case(subject="Production Down since 9", severity=1)
    assert case.state.prioritised

    [event] = case.change_severity(ChangeSeverity(_id(case), 1, "only a test system", prioritised=False), agent())
    fold(case, [event])

    assert isinstance(event, SeverityChanged)
    assert (event.to_severity, event.prioritised) == (1, False)
    assert case.state.prioritised is False


def test_a_severity_change_keeps_the_subject_rules_prioritisation_unless_asked() -> None:
    case = opened_case(subject="Production Down", severity=1)

    [event] = case.change_severity(ChangeSeverity(_id(case), 2, "partial outage"), agent())

    assert isinstance(event, SeverityChanged)
    assert event.prioritised is True


def test_only_the_subject_rule_prioritises_a_case() -> None:
    case = opened_case(subject="Exports fail")

    with pytest.raises(InvalidInput) as caught:
        case.change_severity(ChangeSeverity(_id(case), 1, "urgent", prioritised=True), agent())

    assert _field(caught) == "prioritised"


def test_a_change_that_changes_nothing_is_refused_naming_the_severity() -> None:
    case = opened_case(severity=2)

    with pytest.raises(InvalidInput) as caught:
        case.change_severity(ChangeSeverity(_id(case), 2, "same"), agent())

    assert _field(caught) == "severity"


def test_snapshot_round_trip_keeps_waiting_assignee_and_severity_history() -> None:
    me = agent()
    case = opened_case(subject="Production Down", severity=2)
    fold(case, case.assign(AssignCase(_id(case), me.user_id), me, assignee_is_agent=True))
    fold(case, case.set_waiting(SetWaiting(_id(case), "customer"), me))
    fold(case, case.change_severity(ChangeSeverity(_id(case), 1, "spreading", prioritised=False), me))

    restored = Case.from_snapshot(case.id, case.to_snapshot())

    assert restored.state == case.state
    assert Case.snapshot_version == 2


def test_agent_commands_are_for_admins_too() -> None:
    admin = Caller(user_id=uuid.uuid4(), role="admin")
    case = opened_case()

    [event] = case.set_waiting(SetWaiting(_id(case), "customer"), admin)

    assert isinstance(event, WaitingStateChanged)
    assert event.changed_by_role == "admin"


def _waiting_on(case: Case) -> str | None:
    """The case's waiting state read afresh (an assert on the attribute narrows it for mypy past the next fold)."""
    return case.state.waiting_on
