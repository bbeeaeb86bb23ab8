"""Which identity events change the cases service's user directory, and how: disabling and enabling an account."""

from __future__ import annotations

import uuid

from casefold_events.contracts import UserDisabled, UserEnabled
from cases.adapters.directory import Change, Person
from cases.consumers import DIRECTORY_EVENTS, change_of

USER = uuid.uuid4()


def test_disabling_and_enabling_an_account_set_the_directorys_flag() -> None:
    assert {"UserDisabled", "UserEnabled"} <= DIRECTORY_EVENTS
    assert change_of(UserDisabled(user_id=USER, disabled_by=uuid.uuid4())) == (USER, Change(disabled=True))
    assert change_of(UserEnabled(user_id=USER)) == (USER, Change(disabled=False))


def test_a_disabled_or_revoked_agent_is_no_current_agent() -> None:
    assert Person(USER, "Eve", None, True, "agent").is_current_agent
    assert Person(USER, "Eve", None, True, "admin").is_current_agent
    assert not Person(USER, "Eve", None, True, "agent", disabled=True).is_current_agent
    assert not Person(USER, "Eve", None, True, "customer").is_current_agent
