"""Which failures consumers retry without limit: a dependency being away, never a bug of ours."""

from __future__ import annotations

import asyncpg

from casefold_events.transient import TRANSIENT, UNAVAILABLE, TransientError


def test_a_connection_broken_by_a_database_restart_is_transient() -> None:
    broken_mid_operation = asyncpg.exceptions.InternalClientError("cannot switch to state 12")

    assert isinstance(broken_mid_operation, TRANSIENT)
    assert isinstance(asyncpg.ConnectionDoesNotExistError(), TRANSIENT)
    assert isinstance(ConnectionRefusedError(), UNAVAILABLE)
    assert isinstance(TransientError(), UNAVAILABLE)


def test_our_own_mistakes_are_not_transient() -> None:
    assert not isinstance(ValueError("bad payload"), TRANSIENT)
    assert not isinstance(asyncpg.UniqueViolationError(), TRANSIENT)
