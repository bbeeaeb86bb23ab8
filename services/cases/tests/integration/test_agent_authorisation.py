"""Who may call the agents' routes: anonymous 401; a customer 403 on their own case and on the queue and agents,
404 on anyone else's case; agents and admins may."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import pytest
from cases_builders import User, enrol

pytestmark = pytest.mark.integration

UserFactory = Callable[..., User]
COMMANDS: dict[str, Callable[[uuid.UUID], dict[str, Any]]] = {
    "assignment": lambda me: {"assignee_id": str(me)},
    "waiting": lambda _: {"waiting_on": "customer"},
    "severity": lambda _: {"severity": 1, "reason": "it got worse"},
}
READS = ["/api/cases/queue", "/api/cases/agents"]


async def _command(who: User, case: dict[str, Any], name: str) -> httpx.Response:
    response: httpx.Response = await who.post(f"/api/cases/{case['id']}/{name}", json=COMMANDS[name](who.user_id))
    return response


@pytest.mark.parametrize("name", sorted(COMMANDS))
async def test_anonymous_callers_get_401_on_every_agent_command(
    client: httpx.AsyncClient, user: UserFactory, name: str
) -> None:
    case = await user().open()

    response = await client.post(f"/api/cases/{case['id']}/{name}", json=COMMANDS[name](uuid.uuid4()))

    assert response.status_code == 401


@pytest.mark.parametrize("path", READS)
async def test_anonymous_callers_get_401_on_the_agent_reads(client: httpx.AsyncClient, path: str) -> None:
    assert (await client.get(path)).status_code == 401


@pytest.mark.parametrize("name", sorted(COMMANDS))
async def test_the_owner_gets_403_and_the_case_stays_as_it_was(
    user: UserFactory, pool: asyncpg.Pool, name: str
) -> None:
    owner = await enrol(pool, user())
    case = await owner.open(severity=3)

    response = await _command(owner, case, name)

    assert response.status_code == 403, response.text
    assert "agents" in response.json()["detail"]
    assert (await owner.get(f"/api/cases/{case['id']}")).json()["version"] == 1


@pytest.mark.parametrize("name", sorted(COMMANDS))
async def test_another_customer_gets_404_as_for_a_case_that_does_not_exist(user: UserFactory, name: str) -> None:
    case = await user().open(severity=3)
    stranger = user()

    theirs = await _command(stranger, case, name)
    missing = await _command(stranger, {"id": str(uuid.uuid4())}, name)

    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["detail"] == missing.json()["detail"]


@pytest.mark.parametrize("path", READS)
async def test_customers_get_403_on_the_agent_reads(user: UserFactory, path: str) -> None:
    response = await user().get(path)

    assert response.status_code == 403
    assert response.json()["detail"] == "Only support agents and admins may read the queue and the agents."


@pytest.mark.parametrize("role", ["agent", "admin"])
@pytest.mark.parametrize("name", sorted(COMMANDS))
async def test_agents_and_admins_may_use_every_agent_command(
    user: UserFactory, pool: asyncpg.Pool, role: str, name: str
) -> None:
    staff = await enrol(pool, user(role=role))
    case = await user().open(severity=3)

    response = await _command(staff, case, name)

    assert response.status_code == 200, response.text
    assert response.json()["version"] == 2


@pytest.mark.parametrize("role", ["agent", "admin"])
@pytest.mark.parametrize("path", READS)
async def test_agents_and_admins_may_read_the_queue_and_the_agents(
    user: UserFactory, pool: asyncpg.Pool, role: str, path: str
) -> None:
    staff = await enrol(pool, user(role=role))

    response = await staff.get(path)

    assert response.status_code == 200, response.text


async def test_a_customer_never_sees_an_agents_email_on_their_case(user: UserFactory, pool: asyncpg.Pool) -> None:
    agent = await enrol(pool, user(role="agent"), name="Agent Smith")
    owner = await enrol(pool, user())
    case = await owner.open()
    await agent.post(f"/api/cases/{case['id']}/assignment", json={"assignee_id": str(agent.user_id)})
    await agent.comment(case["id"], "Looking into it")

    page = (await owner.get(f"/api/cases/{case['id']}")).text

    assert "Agent Smith" in page
    assert f"{agent.user_id}@people.test" not in page
    assert '"assignee":null' in page.replace(" ", "")
