"""The queue's inputs and the SLA view, without a database: cursors of the urgency order, breach arithmetic."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cases.adapters.cursor import decode_cursor, decode_urgency_cursor, encode_cursor, encode_urgency_cursor
from cases.domain.errors import InvalidCursor
from cases.domain.views import SlaView, sla_view

NOW = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize("deadline", [None, NOW + timedelta(hours=3)])
def test_an_urgency_cursor_names_the_position_it_was_made_from(deadline: datetime | None) -> None:
    case_id = uuid.uuid4()

    cursor = encode_urgency_cursor(True, deadline, 2, NOW, case_id)

    assert decode_urgency_cursor(cursor) == (True, deadline, 2, NOW, case_id)


def test_the_two_orders_refuse_each_others_cursors() -> None:
    activity = encode_cursor(NOW, uuid.uuid4())
    urgency = encode_urgency_cursor(False, None, 3, NOW, uuid.uuid4())

    with pytest.raises(InvalidCursor):
        decode_urgency_cursor(activity)
    with pytest.raises(InvalidCursor):
        decode_cursor(urgency)


@pytest.mark.parametrize("cursor", ["", "bm9wZQ", "u|2|||x|y", "x" * 300])
def test_a_forged_urgency_cursor_is_invalid(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        decode_urgency_cursor(cursor)


def _sla(**overrides: Any) -> SlaView | None:
    values: dict[str, Any] = {
        "first_response_due_at": NOW + timedelta(hours=1),
        "first_responded_at": None,
        "resolution_due_at": NOW + timedelta(hours=4),
        "resolution_remaining_seconds": 4 * 3600,
        "resolution_paused": False,
        "now": NOW,
    }
    values.update(overrides)
    return sla_view(**values)


def test_no_clocks_no_sla() -> None:
    view = _sla(first_response_due_at=None, resolution_due_at=None, resolution_remaining_seconds=None)

    assert view is None


def test_running_clocks_before_their_deadlines_are_not_breached() -> None:
    view = _sla()

    assert view is not None
    assert (view.first_response_breached, view.resolution_breached) == (False, False)


def test_a_first_response_after_its_deadline_stays_breached() -> None:
    view = _sla(first_responded_at=NOW + timedelta(hours=2), now=NOW + timedelta(hours=3))

    assert view is not None
    assert view.first_response_breached is True


def test_a_paused_resolution_clock_hides_its_due_time_and_keeps_what_was_left() -> None:
    view = _sla(resolution_paused=True, resolution_remaining_seconds=600, now=NOW + timedelta(days=9))

    assert view is not None
    assert view.resolution_due_at is None
    assert view.resolution_remaining_seconds == 600
    assert view.resolution_breached is False


def test_a_running_resolution_clock_past_its_deadline_is_breached() -> None:
    view = _sla(now=NOW + timedelta(hours=5))

    assert view is not None
    assert view.resolution_breached is True
