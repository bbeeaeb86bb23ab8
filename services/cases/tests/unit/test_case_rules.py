"""The Case aggregate's rules, without I/O: who may do what, when, and what the events say."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import pytest
from cases_builders import CATALOGUE, agent, attachment_ref, customer, fold, open_command, opened_case, verified

from casefold_events.contracts import AttachmentAdded, CaseClosed, CaseOpened, CommentAdded
from casefold_platform.problems import InvalidInput
from cases.domain.commands import AddComment, Caller, OpenCase, VerifiedAttachment
from cases.domain.errors import AttachmentAlreadyOnCase, CaseIsClosed, CaseNotFound, NotAllowed
from cases.domain.model import PRIORITY_RULE, Case, check_may_open, open_case, priority_rule_for


def _open(command: OpenCase, caller: Caller, *, number: int = 1, attachments: Sequence[VerifiedAttachment] = ()
          ) -> CaseOpened:  # fmt: skip
    return open_case(command, check_may_open(command, caller, CATALOGUE).with_attachments(attachments), number=number)


def _comment(case: Case, body: str = "hello", internal: bool = False) -> AddComment:
    return AddComment(case_id=uuid.UUID(case.id), comment_id=uuid.uuid4(), body=body, internal=internal)


@pytest.mark.parametrize(
    "subject",
    ["Production Down", "production down since 9am", "URGENT: PRODUCTION DOWN", "our PrOdUcTiOn   dOwN again"],
)
def test_production_down_anywhere_in_any_case_prioritises(subject: str) -> None:
    event = _open(open_command(subject=subject), customer())

    assert event.prioritised is True
    assert event.priority_rule == PRIORITY_RULE


@pytest.mark.parametrize("subject", ["Production is down", "Productiondown", "Down in production"])
def test_other_subjects_are_not_prioritised(subject: str) -> None:
    assert priority_rule_for(subject) is None


def test_open_records_number_product_and_opener() -> None:
    owner = customer()
    event = _open(open_command(product_id="casefold-server"), owner, number=1042)

    assert event.number == 1042
    assert (event.product_id, event.product_name) == ("casefold-server", "Casefold Server")
    assert event.opened_by == owner.user_id
    assert event.opened_by_role == "customer"


def test_unknown_product_is_refused_listing_the_valid_ones() -> None:
    with pytest.raises(InvalidInput) as caught:
        _open(open_command(product_id="nope"), customer())

    assert caught.value.extensions["errors"][0]["field"] == "product"
    assert "casefold-cloud" in caught.value.detail
    assert "casefold-server" in caught.value.detail


def test_unverified_customer_may_not_open() -> None:
    with pytest.raises(NotAllowed, match="Confirm your email"):
        _open(open_command(), customer(email_verified=False))


def test_agents_do_not_open_cases() -> None:
    with pytest.raises(NotAllowed):
        _open(open_command(), agent())


def test_open_refuses_someone_elses_upload_and_duplicates() -> None:
    owner = customer()
    with pytest.raises(InvalidInput) as caught:
        _open(open_command(attachments=("r",)), owner, attachments=[verified(uuid.uuid4())])
    assert caught.value.extensions["errors"][0]["field"] == "attachments.0"

    ref = attachment_ref()
    with pytest.raises(InvalidInput) as caught:
        _open(open_command(attachments=("r", "r")), owner,
              attachments=[verified(owner.user_id, ref), verified(owner.user_id, ref)])  # fmt: skip
    assert caught.value.extensions["errors"][0]["field"] == "attachments.1"


def test_owner_and_agent_may_comment_and_agents_may_comment_internally() -> None:
    owner, support = customer(), agent()
    case = opened_case(owner)

    (by_owner,) = case.add_comment(_comment(case), owner)
    (internal,) = case.add_comment(_comment(case, internal=True), support)

    assert isinstance(by_owner, CommentAdded)
    assert by_owner.author_role == "customer"
    assert isinstance(internal, CommentAdded)
    assert internal.internal is True


def test_customer_may_not_comment_internally() -> None:
    owner = customer()
    case = opened_case(owner)

    with pytest.raises(NotAllowed):
        case.add_comment(_comment(case, internal=True), owner)


def test_another_customer_cannot_see_comment_on_or_close_the_case() -> None:
    case, stranger = opened_case(customer()), customer()

    with pytest.raises(CaseNotFound):
        case.ensure_visible_to(stranger)
    with pytest.raises(CaseNotFound):
        case.add_comment(_comment(case), stranger)
    with pytest.raises(CaseNotFound):
        case.close(stranger)


def test_a_case_that_does_not_exist_is_not_found() -> None:
    with pytest.raises(CaseNotFound):
        Case(str(uuid.uuid4())).close(agent())


def test_close_is_final_and_refuses_every_later_command() -> None:
    owner = customer()
    case = opened_case(owner)
    fold(case, case.close(owner))

    assert case.state.status == "closed"
    assert case.state.closed_at is not None
    with pytest.raises(CaseIsClosed, match="open a new case"):
        case.add_comment(_comment(case), owner)
    with pytest.raises(CaseIsClosed):
        case.close(agent())
    with pytest.raises(CaseIsClosed):
        case.add_attachment(verified(owner.user_id), owner)


def test_agent_may_close_any_case() -> None:
    case = opened_case(customer())

    (event,) = case.close(agent())

    assert isinstance(event, CaseClosed)
    assert event.closed_by_role == "agent"


def test_the_same_attachment_twice_is_refused() -> None:
    owner = customer()
    case = opened_case(owner)
    ref = attachment_ref()
    events = case.add_attachment(verified(owner.user_id, ref), owner)
    fold(case, events)

    assert isinstance(events[0], AttachmentAdded)
    with pytest.raises(AttachmentAlreadyOnCase):
        case.add_attachment(verified(owner.user_id, ref), owner)


def test_agent_may_attach_own_upload_but_not_someone_elses() -> None:
    owner, support = customer(), agent()
    case = opened_case(owner)

    assert case.add_attachment(verified(support.user_id), support)
    with pytest.raises(InvalidInput):
        case.add_attachment(verified(owner.user_id), support)


def test_snapshot_round_trip_keeps_the_whole_state() -> None:
    owner, support = customer(), agent()
    case = opened_case(owner)
    fold(case, case.add_comment(_comment(case, "first"), owner))
    fold(case, case.add_comment(_comment(case, "secret", internal=True), support))
    fold(case, case.add_attachment(verified(owner.user_id), owner))
    fold(case, case.close(owner))

    restored = Case.from_snapshot(case.id, case.to_snapshot())

    assert restored.state == case.state


def test_open_refuses_a_permit_that_does_not_cover_the_commands_attachments() -> None:
    command = open_command(attachments=("r",))
    permit = check_may_open(command, customer(), CATALOGUE)

    with pytest.raises(ValueError, match="with_attachments"):
        open_case(command, permit, number=1)
