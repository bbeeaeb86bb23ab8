"""Cases whose assignee can no longer act (agent role revoked, or account disabled) count as unassigned in the
queues, lose the assignee's name, and their assignee leaves the assignee menu; enabling the account again gives
them back."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import httpx
import pytest
from cases_builders import User, disable, enrol, revoke

pytestmark = pytest.mark.integration

UserFactory = Callable[..., User]


async def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


async def _queue_item(viewer: User, case_id: str, **params: Any) -> dict[str, Any] | None:
    page = await _ok(await viewer.get("/api/cases/queue", params={"limit": 100, **params}))
    return next((item for item in page["items"] if item["id"] == case_id), None)


async def _assigned_case(user: UserFactory, pool: asyncpg.Pool, ada: User, name: str) -> tuple[User, str]:
    eve = await enrol(pool, user(role="agent"), name=name)
    case = await user().open()
    await _ok(await ada.post(f"/api/cases/{case['id']}/assignment", json={"assignee_id": str(eve.user_id)}))
    item = await _queue_item(ada, case["id"], assignee=str(eve.user_id))
    assert item is not None
    assert item["assignee"]["display_name"] == name
    return eve, case["id"]


async def _counts_as_unassigned(ada: User, eve: User, case_id: str) -> None:
    unassigned = await _queue_item(ada, case_id, assignee="unassigned")
    assert unassigned is not None
    assert unassigned["assignee"] is None
    anyone = await _queue_item(ada, case_id)
    assert anyone is not None
    assert anyone["assignee"] is None
    assert await _queue_item(ada, case_id, assignee=str(eve.user_id)) is None
    assert (await _ok(await ada.get(f"/api/cases/{case_id}")))["assignee"] is None
    menu = (await ada.get("/api/cases/agents")).json()
    assert str(eve.user_id) not in [a["id"] for a in menu]
    assert str(ada.user_id) in [a["id"] for a in menu]


@pytest.mark.parametrize("leaves", [revoke, disable], ids=["role revoked", "account disabled"])
async def test_a_case_whose_assignee_can_no_longer_act_shows_as_unassigned_in_the_queue(
    user: UserFactory, pool: asyncpg.Pool, leaves: Callable[[asyncpg.Pool, User], Awaitable[None]]
) -> None:
    ada = await enrol(pool, user(role="agent"), name="Ada Agent")
    eve, case_id = await _assigned_case(user, pool, ada, "Eve Leaver")

    await leaves(pool, eve)

    await _counts_as_unassigned(ada, eve, case_id)


async def test_a_disabled_agent_enabled_again_has_their_cases_back(user: UserFactory, pool: asyncpg.Pool) -> None:
    ada = await enrol(pool, user(role="agent"), name="Ada Agent")
    eve, case_id = await _assigned_case(user, pool, ada, "Eve Returns")
    await disable(pool, eve)
    assert await _queue_item(ada, case_id, assignee=str(eve.user_id)) is None

    await disable(pool, eve, disabled=False)

    item = await _queue_item(ada, case_id, assignee=str(eve.user_id))
    assert item is not None
    assert item["assignee"]["display_name"] == "Eve Returns"
    assert await _queue_item(ada, case_id, assignee="unassigned") is None


async def test_a_disabled_agent_cannot_be_given_a_case(user: UserFactory, pool: asyncpg.Pool) -> None:
    ada = await enrol(pool, user(role="agent"), name="Ada Agent")
    eve = await enrol(pool, user(role="agent"), name="Eve Away")
    await disable(pool, eve)
    case = await user().open()

    given = await ada.post(f"/api/cases/{case['id']}/assignment", json={"assignee_id": str(eve.user_id)})

    assert given.status_code == 422, given.text
    assert "assignee_id" in given.text
