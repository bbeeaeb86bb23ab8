"""The User aggregate's rules, without I/O."""

from __future__ import annotations

import uuid

import pytest

from casefold_events.contracts import EmailChanged, EmailConfirmed, RoleGranted
from identity.domain.errors import Conflict
from identity.domain.model import User


def registered() -> User:
    user_id = uuid.uuid4()
    user = User(str(user_id))
    user.apply(User.register(user_id, "ann@example.com", "Ann Example", "2026-11"))
    user.version = 1
    return user


def test_confirming_twice_records_one_event() -> None:
    user = registered()
    events = user.confirm_email("ann@example.com")
    assert [type(e) for e in events] == [EmailConfirmed]
    user.apply(events[0])
    assert user.confirm_email("ann@example.com") == []


def test_a_link_for_a_previous_address_is_refused() -> None:
    with pytest.raises(Conflict):
        registered().confirm_email("old@example.com")


def test_email_change_takes_effect_on_confirmation() -> None:
    user = registered()
    for event in user.request_email_change("new@example.com"):
        user.apply(event)
    assert user.email == "ann@example.com"
    [changed] = user.confirm_email_change("new@example.com")
    assert isinstance(changed, EmailChanged)
    user.apply(changed)
    assert (user.email, user.pending_email, user.email_verified) == ("new@example.com", None, True)


def test_an_admin_cannot_change_their_own_role() -> None:
    user = registered()
    with pytest.raises(Conflict):
        user.grant_role("agent", granted_by=user.user_id)


def test_granting_a_role_records_who_granted_it() -> None:
    admin_id = uuid.uuid4()
    [event] = registered().grant_role("agent", granted_by=admin_id)
    assert isinstance(event, RoleGranted)
    assert event == RoleGranted(user_id=event.user_id, role="agent", granted_by=admin_id)


def test_disabling_is_recorded_once_and_enabling_undoes_it() -> None:
    user, admin = registered(), uuid.uuid4()
    events = user.disable(admin)
    assert [type(e).__name__ for e in events] == ["UserDisabled"]
    for event in events:
        user.apply(event)
    assert user.disabled
    assert user.disable(admin) == []
    enabled = user.enable(admin)
    assert [type(e).__name__ for e in enabled] == ["UserEnabled"]
    user.apply(enabled[0])
    assert not user.disabled
    assert user.enable(admin) == []


def test_an_admin_cannot_disable_their_own_account() -> None:
    user = registered()
    with pytest.raises(Conflict):
        user.disable(user.user_id)
