"""GET /api/cases/counts counts only what the caller may see; GET /api/cases/severities is the validation's table."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from cases_builders import User

from cases.domain.severity import SEVERITIES

pytestmark = pytest.mark.integration

UserFactory = Callable[..., User]


async def counts(who: User, **params: str) -> dict[str, int]:
    """all, open and closed; the counts here are below the cap, so each is said to be exact too."""
    response = await who.get("/api/cases/counts", params=params)
    assert response.status_code == 200, response.text
    data: dict[str, int] = response.json()
    assert {k: data.pop(k) for k in ("all_capped", "open_capped", "closed_capped")} == dict.fromkeys(
        ("all_capped", "open_capped", "closed_capped"), False
    )
    return data


async def test_a_customer_counts_their_own_cases_only(user: UserFactory) -> None:
    alice, bob = user(), user()
    first = await alice.open(subject="Invoice PDF is blank")
    await alice.open(subject="Login timeout")
    await alice.close(first["id"])
    for _ in range(3):
        await bob.open(subject="Invoice totals wrong")

    assert await counts(alice) == {"all": 2, "open": 1, "closed": 1}
    assert await counts(bob) == {"all": 3, "open": 3, "closed": 0}
    assert await counts(alice, q="invoice") == {"all": 1, "open": 0, "closed": 1}
    assert await counts(bob, q="voic") == {"all": 3, "open": 3, "closed": 0}
    assert await counts(user()) == {"all": 0, "open": 0, "closed": 0}


async def test_an_agent_counts_every_case_as_the_list_finds_them(user: UserFactory) -> None:
    agent, customer = user(role="agent"), user()
    before = await counts(agent, q="zebracrossing")
    case = await customer.open(subject="Zebracrossing render glitch")
    await customer.open(subject="Zebracrossing render glitch again")
    await customer.close(case["id"])

    found = await counts(agent, q="zebracrossing")
    listed = (await agent.list(q="zebracrossing", limit=100))["items"]

    assert found == {"all": before["all"] + 2, "open": before["open"] + 1, "closed": before["closed"] + 1}
    assert found["all"] == len(listed)
    everything = await counts(agent)
    assert everything["all"] == everything["open"] + everything["closed"] >= found["all"]


async def test_an_agents_counts_of_every_case_are_fresh(user: UserFactory) -> None:
    before = await counts(user(role="agent"))
    customer = user()
    await customer.open()

    assert await counts(customer) == {"all": 1, "open": 1, "closed": 0}
    assert (await counts(user(role="admin")))["all"] == before["all"] + 1


async def test_counts_refuse_an_overlong_search_naming_the_field(user: UserFactory) -> None:
    response = await user().get("/api/cases/counts", params={"q": "x" * 201})

    assert response.status_code == 422
    assert "query.q" in {e["field"] for e in response.json()["errors"]}


async def test_counts_and_severities_need_a_token(client: httpx.AsyncClient) -> None:
    for path in ("/api/cases/counts", "/api/cases/severities"):
        response = await client.get(path)
        assert response.status_code == 401, path
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_the_severity_levels_are_served_with_their_descriptions(user: UserFactory) -> None:
    response = await user().get("/api/cases/severities")

    assert response.status_code == 200
    levels = response.json()
    assert [(s["level"], s["name"]) for s in levels] == [(1, "Critical"), (2, "Major"), (3, "Minor")]
    assert all(s["description"] for s in levels)
    assert "no workaround" in levels[0]["description"]


@pytest.mark.parametrize("severity", [s.level for s in SEVERITIES])
async def test_every_served_level_opens_a_case(user: UserFactory, severity: int) -> None:
    assert (await user().open(severity=severity))["severity"] == severity


@pytest.mark.parametrize("severity", [0, 4])
async def test_a_level_outside_the_table_is_refused(user: UserFactory, severity: int) -> None:
    response = await user().post("/api/cases", json={"product": "casefold-cloud", "subject": "s", "description": "d",
                                                     "severity": severity})  # fmt: skip

    assert response.status_code == 422
    assert "body.severity" in {e["field"] for e in response.json()["errors"]}
