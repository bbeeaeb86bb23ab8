"""Time travel by time takes a prefix of the case's versions, whatever the writers' clocks said: replicas with skewed
clocks can stamp version 3 earlier than version 2, and `as_of` must never fold a history that never existed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from cases_builders import User

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


async def _stamp(pool: asyncpg.Pool, case_id: str, minutes_by_version: dict[int, int]) -> None:
    """Rewrite the events' timestamps as skewed replicas would have written them."""
    for version, minutes in minutes_by_version.items():
        await pool.execute("UPDATE events SET occurred_at = $3 WHERE stream_id = $1 AND stream_version = $2",
                           case_id, version, T0 + timedelta(minutes=minutes))  # fmt: skip


async def test_as_of_stops_at_the_first_event_after_the_time_even_when_a_later_one_is_stamped_earlier(
    user: Callable[..., User], pool: asyncpg.Pool
) -> None:
    alice = user()
    case = await alice.open()
    for body in ("second", "third", "fourth"):
        await alice.comment(case["id"], body)
    # v2 came from a replica whose clock ran 10 minutes fast; v3 from one on time.
    await _stamp(pool, case["id"], {1: 0, 2: 10, 3: 5, 4: 20})
    base = f"/api/cases/{case['id']}"

    at_7 = await alice.get(base, params={"as_of": (T0 + timedelta(minutes=7)).isoformat()})
    at_15 = await alice.get(base, params={"as_of": (T0 + timedelta(minutes=15)).isoformat()})
    at_0 = await alice.get(base, params={"as_of": T0.isoformat()})

    assert at_7.status_code == 200
    # Not v1 + v3 (the "third" comment without the "second"): the prefix before v2, the first event after 09:07.
    assert at_7.json()["version"] == 1
    assert at_7.json()["comments"] == []
    assert at_15.json()["version"] == 3
    assert [c["body"] for c in at_15.json()["comments"]] == ["second", "third"]
    assert at_0.json()["version"] == 1


async def test_as_of_agrees_with_as_of_version_and_uses_snapshots(
    user: Callable[..., User], pool: asyncpg.Pool
) -> None:
    alice = user()
    case = await alice.open()
    for i in range(11):  # two snapshots at the tests' interval of 5
        await alice.comment(case["id"], f"c{i}")
    await _stamp(pool, case["id"], {v: v for v in range(1, 13)})
    base = f"/api/cases/{case['id']}"

    by_time = (await alice.get(base, params={"as_of": (T0 + timedelta(minutes=11, seconds=30)).isoformat()})).json()
    by_version = (await alice.get(base, params={"as_of_version": 11})).json()

    assert by_time == by_version
    assert by_time["version"] == 11
