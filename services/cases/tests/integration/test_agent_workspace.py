"""The agents' commands through the API on the real database: assignment, waiting states, severity changes, and
what agents and customers see of them on the case page, in summaries and after time travel."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import pytest
from cases_builders import User, enrol, revoke

from cases.config import DEV_INTERNAL_API_KEY

pytestmark = pytest.mark.integration

UserFactory = Callable[..., User]


async def _agent(user: UserFactory, pool: asyncpg.Pool, name: str = "Ada Agent", role: str = "agent") -> User:
    return await enrol(pool, user(role=role), name=name)


async def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def _field(response: httpx.Response) -> str:
    assert response.status_code == 422, response.text
    field: str = response.json()["errors"][0]["field"]
    return field


async def test_an_agent_takes_a_case_and_the_case_page_names_the_assignee(
    user: UserFactory, pool: asyncpg.Pool
) -> None:
    owner = await enrol(pool, user(), name="Cora Customer")
    ada = await _agent(user, pool)
    case = await owner.open()

    reply = await _ok(await ada.post(f"/api/cases/{case['id']}/assignment", json={"assignee_id": str(ada.user_id)}))
    page = await _ok(await ada.get(f"/api/cases/{case['id']}"))

    for view in (reply, page):
        assert view["assignee"] == {"id": str(ada.user_id), "display_name": "Ada Agent"}
        assert view["customer"] == {"id": str(owner.user_id), "display_name": "Cora Customer",
                                    "email": f"{owner.user_id}@people.test"}  # fmt: skip
    mine = (await owner.get(f"/api/cases/{case['id']}")).json()
    assert mine["assignee"] is None
    assert mine["customer"] is None
    assert mine["last_activity_at"] == case["last_activity_at"]


async def test_an_agent_gives_a_case_to_another_agent_then_unassigns_it(user: UserFactory, pool: asyncpg.Pool) -> None:
    ada, bea = await _agent(user, pool), await _agent(user, pool, "Bea Admin", role="admin")
    case = await user().open()
    path = f"/api/cases/{case['id']}/assignment"

    given = await _ok(await ada.post(path, json={"assignee_id": str(bea.user_id)}))
    dropped = await _ok(await bea.post(path, json={"assignee_id": None}))

    assert given["assignee"]["display_name"] == "Bea Admin"
    assert dropped["assignee"] is None


async def test_assigning_to_a_customer_or_a_stranger_names_body_assignee_id(
    user: UserFactory, pool: asyncpg.Pool
) -> None:
    ada = await _agent(user, pool)
    owner = await enrol(pool, user())
    case = await owner.open()
    path = f"/api/cases/{case['id']}/assignment"

    for someone in (owner.user_id, "00000000-0000-4000-8000-000000000000"):
        assert _field(await ada.post(path, json={"assignee_id": str(someone)})) == "body.assignee_id"
    assert _field(await ada.post(path, json={"assignee_id": "not-a-uuid"})) == "body.assignee_id"
    assert _field(await ada.post(path, json={})) == "body.assignee_id"


async def test_an_assignee_whose_agent_role_was_revoked_shows_as_unassigned(
    user: UserFactory, pool: asyncpg.Pool
) -> None:
    ada, eve = await _agent(user, pool), await _agent(user, pool, "Eve Leaver")
    case = await user().open()
    await _ok(await ada.post(f"/api/cases/{case['id']}/assignment", json={"assignee_id": str(eve.user_id)}))

    await revoke(pool, eve)

    assert (await _ok(await ada.get(f"/api/cases/{case['id']}")))["assignee"] is None
    unassigned = await _ok(await ada.get("/api/cases/queue", params={"assignee": "unassigned", "limit": 100}))
    assert case["id"] in [i["id"] for i in unassigned["items"]]
    theirs = await _ok(await ada.get("/api/cases/queue", params={"assignee": str(eve.user_id)}))
    assert theirs["items"] == []
    agents = (await ada.get("/api/cases/agents")).json()
    assert str(ada.user_id) in [a["id"] for a in agents]
    assert str(eve.user_id) not in [a["id"] for a in agents]


async def test_waiting_on_the_customer_until_the_customer_comments(user: UserFactory, pool: asyncpg.Pool) -> None:
    ada, owner = await _agent(user, pool), user()
    case = await owner.open()
    assert case["waiting_on"] == "support"

    marked = await _ok(await ada.post(f"/api/cases/{case['id']}/waiting", json={"waiting_on": "customer"}))
    assert marked["waiting_on"] == "customer"
    assert [i["waiting_on"] for i in (await owner.list(status="open"))["items"] if i["id"] == case["id"]] == [
        "customer"
    ]
    await ada.comment(case["id"], "Did that help?")
    assert (await owner.get(f"/api/cases/{case['id']}")).json()["waiting_on"] == "customer"

    await owner.comment(case["id"], "Yes, but now this")

    assert (await owner.get(f"/api/cases/{case['id']}")).json()["waiting_on"] == "support"


async def test_a_reply_by_email_puts_the_case_back_to_waiting_on_support(
    client: httpx.AsyncClient, user: UserFactory, pool: asyncpg.Pool
) -> None:
    ada, owner = await _agent(user, pool), user()
    case = await owner.open()
    await _ok(await ada.post(f"/api/cases/{case['id']}/waiting", json={"waiting_on": "customer"}))

    email = {"author_id": str(owner.user_id), "author_role": "customer", "body": "Replying by mail",
             "inbound_message_id": f"<{case['id']}@mail.customer.test>"}  # fmt: skip
    response = await client.post(f"/internal/cases/{case['id']}/comments", json=email,
                                 headers={"Authorization": f"Bearer {DEV_INTERNAL_API_KEY}"})  # fmt: skip

    assert response.status_code == 201, response.text
    assert (await ada.get(f"/api/cases/{case['id']}")).json()["waiting_on"] == "support"


async def test_waiting_on_is_validated_and_null_once_closed(user: UserFactory, pool: asyncpg.Pool) -> None:
    ada, owner = await _agent(user, pool), user()
    case = await owner.open()

    assert _field(await ada.post(f"/api/cases/{case['id']}/waiting", json={"waiting_on": "nobody"})) == (
        "body.waiting_on"
    )
    closed = await _ok(await owner.close(case["id"]))

    assert closed["waiting_on"] is None
    again = await ada.post(f"/api/cases/{case['id']}/waiting", json={"waiting_on": "customer"})
    assert again.status_code == 409
    assert again.json()["type"].endswith("case-closed")


async def test_severity_changes_are_recorded_for_agents_only(user: UserFactory, pool: asyncpg.Pool) -> None:
    ada, owner = await _agent(user, pool, "Ada Severity"), user()
    case = await owner.open(severity=3)

    reply = await _ok(await ada.post(f"/api/cases/{case['id']}/severity",
                                     json={"severity": 1, "reason": "Every user is affected"}))  # fmt: skip

    assert reply["severity"] == 1
    [change] = reply["severity_changes"]
    assert {k: change[k] for k in ("from_severity", "to_severity", "prioritised", "reason", "changed_by_name")} == {
        "from_severity": 3, "to_severity": 1, "prioritised": False, "reason": "Every user is affected",
        "changed_by_name": "Ada Severity",
    }  # fmt: skip
    assert (await _ok(await ada.get(f"/api/cases/{case['id']}")))["severity_changes"] == [change]
    mine = (await owner.get(f"/api/cases/{case['id']}")).json()
    assert (mine["severity"], mine["severity_changes"]) == (1, [])


async def test_a_severity_change_without_a_reason_names_body_reason(user: UserFactory, pool: asyncpg.Pool) -> None:
    ada = await _agent(user, pool)
    case = await user().open(severity=3)
    path = f"/api/cases/{case['id']}/severity"

    assert _field(await ada.post(path, json={"severity": 1})) == "body.reason"
    assert _field(await ada.post(path, json={"severity": 1, "reason": "   "})) == "body.reason"
    assert _field(await ada.post(path, json={"severity": 1, "reason": "x" * 501})) == "body.reason"
    assert _field(await ada.post(path, json={"severity": 4, "reason": "why"})) == "body.severity"
    assert _field(await ada.post(path, json={"severity": 3, "reason": "same"})) == "body.severity"
    assert _field(await ada.post(path, json={"severity": 1, "reason": "up", "prioritised": True})) == (
        "body.prioritised"
    )


async def test_an_agent_lowers_a_production_down_case_and_the_queue_sees_it(
    user: UserFactory, pool: asyncpg.Pool
) -> None:
    ada = await _agent(user, pool)
    case = await user().open(subject="Production Down in staging", severity=1)
    assert case["prioritised"] is True

    reply = await _ok(await ada.post(f"/api/cases/{case['id']}/severity",
                                     json={"severity": 2, "reason": "Staging only", "prioritised": False}))  # fmt: skip

    assert (reply["prioritised"], reply["severity"]) == (False, 2)
    prioritised = await _ok(await ada.get("/api/cases/queue", params={"prioritised": "true", "limit": 100}))
    assert case["id"] not in [i["id"] for i in prioritised["items"]]


async def test_time_travel_shows_the_case_before_the_agents_changes(user: UserFactory, pool: asyncpg.Pool) -> None:
    ada, owner = await _agent(user, pool), user()
    case = await owner.open(severity=3)
    path = f"/api/cases/{case['id']}"
    await _ok(await ada.post(f"{path}/assignment", json={"assignee_id": str(ada.user_id)}))
    await _ok(await ada.post(f"{path}/waiting", json={"waiting_on": "customer"}))
    await _ok(await ada.post(f"{path}/severity", json={"severity": 2, "reason": "worse"}))
    await owner.comment(case["id"], "answer")
    # snapshot_every=5 in these settings: the next loads start from a snapshot of the new shape
    now = await _ok(await ada.get(path))

    before = await _ok(await ada.get(path, params={"as_of_version": 1}))
    middle = await _ok(await ada.get(path, params={"as_of_version": 4}))

    assert (before["waiting_on"], before["assignee"], before["severity"]) == ("support", None, 3)
    assert (middle["waiting_on"], middle["assignee"]["id"], middle["severity"]) == ("customer", str(ada.user_id), 2)
    assert (now["waiting_on"], now["version"]) == ("support", 6)
    latest = await _ok(await ada.post(f"{path}/waiting", json={"waiting_on": "customer"}))
    assert latest["version"] == 7
    assert latest["severity_changes"] == now["severity_changes"]


async def test_a_repeated_command_with_its_idempotency_key_changes_nothing_more(
    user: UserFactory, pool: asyncpg.Pool
) -> None:
    ada = await _agent(user, pool)
    case = await user().open(severity=3)
    headers = {"Idempotency-Key": f"sev-{case['id']}"}
    path = f"/api/cases/{case['id']}/severity"

    first = await _ok(await ada.post(path, json={"severity": 2, "reason": "worse"}, headers=headers))
    second = await _ok(await ada.post(path, json={"severity": 2, "reason": "worse"}, headers=headers))

    assert first == second
    assert (await _ok(await ada.get(f"/api/cases/{case['id']}")))["version"] == 2


async def test_customers_open_filter_counts_both_waiting_states(user: UserFactory, pool: asyncpg.Pool) -> None:
    ada, owner = await _agent(user, pool), user()
    waiting, working, done = await owner.open(), await owner.open(), await owner.open()
    await _ok(await ada.post(f"/api/cases/{waiting['id']}/waiting", json={"waiting_on": "customer"}))
    await owner.close(done["id"])

    open_ids = {i["id"] for i in (await owner.list(status="open"))["items"]}
    counts = (await owner.get("/api/cases/counts")).json()

    assert open_ids == {waiting["id"], working["id"]}
    assert counts == {"all": 3, "open": 2, "closed": 1, "all_capped": False, "open_capped": False,
                      "closed_capped": False}  # fmt: skip
