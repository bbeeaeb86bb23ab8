"""Names on cases and comments come from the user directory at read time; only agents see the owner's email."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime

import asyncpg
import pytest
from cases_builders import User

from casefold_events.contracts.cases import Role
from cases.adapters import directory
from cases.adapters.directory import Change

pytestmark = pytest.mark.integration

UserFactory = Callable[..., User]
_versions = itertools.count(1)


async def known(pool: asyncpg.Pool, who: User, name: str, role: Role = "customer") -> None:
    """The directory learns who `who` is (as the identity consumer would), at a newer version each time."""
    change = Change(display_name=name, email=f"{name.lower().replace(' ', '.')}@example.com", role=role,
                    email_verified=True)  # fmt: skip
    async with pool.acquire() as conn:
        await directory.apply(conn, who.user_id, next(_versions), datetime.now(UTC), change)


async def test_the_case_and_its_comments_carry_display_names(user: UserFactory, pool: asyncpg.Pool) -> None:
    customer, agent = user(), user(role="agent")
    await known(pool, customer, "Grace Hopper")
    await known(pool, agent, "Support Sam", role="agent")
    case = await customer.open()
    await agent.comment(case["id"], "Looking into it")
    await customer.comment(case["id"], "Thanks")

    page = (await customer.get(f"/api/cases/{case['id']}")).json()

    assert case["opened_by_name"] == "Grace Hopper"
    assert page["opened_by_name"] == "Grace Hopper"
    assert [(c["author_name"], c["author_role"]) for c in page["comments"]] == [
        ("Support Sam", "agent"), ("Grace Hopper", "customer"),
    ]  # fmt: skip
    summary = next(i for i in (await customer.list())["items"] if i["id"] == case["id"])
    assert summary["opened_by_name"] == "Grace Hopper"


async def test_a_rename_shows_everywhere_at_once(user: UserFactory, pool: asyncpg.Pool) -> None:
    customer, agent = user(), user(role="agent")
    await known(pool, customer, "Old Name")
    case = await customer.open()
    reply = (await customer.comment(case["id"])).json()
    assert reply["author_name"] == "Old Name"

    await known(pool, customer, "New Name")

    page = (await agent.get(f"/api/cases/{case['id']}")).json()
    assert page["opened_by_name"] == "New Name"
    assert page["comments"][0]["author_name"] == "New Name"
    assert (await agent.get(f"/api/cases/by-number/{case['number']}")).json()["opened_by_name"] == "New Name"
    assert (await agent.get(f"/api/cases/{case['id']}", params={"as_of_version": 1})).json()["opened_by_name"] == (
        "New Name"
    )
    found = (await agent.list(q="Exports"))["items"]
    assert "New Name" in {i["opened_by_name"] for i in found if i["id"] == case["id"]}


async def test_a_user_the_directory_does_not_know_has_no_name(user: UserFactory) -> None:
    customer, agent = user(), user(role="agent")
    case = await customer.open()
    await customer.comment(case["id"])

    page = (await agent.get(f"/api/cases/{case['id']}")).json()

    assert (case["opened_by_name"], page["opened_by_name"], page["opened_by_email"]) == (None, None, None)
    assert page["comments"][0]["author_name"] is None
    assert page["comments"][0]["author_role"] == "customer"


async def test_agents_see_the_owners_email_and_customers_never_see_one(user: UserFactory, pool: asyncpg.Pool) -> None:
    customer, agent, admin = user(), user(role="agent"), user(role="admin")
    await known(pool, customer, "Mail Owner")
    case = await customer.open()

    as_customer = (await customer.get(f"/api/cases/{case['id']}")).json()
    as_agent = (await agent.get(f"/api/cases/{case['id']}")).json()
    as_admin = (await admin.get(f"/api/cases/by-number/{case['number']}")).json()
    closed = (await agent.close(case["id"])).json()

    assert case["opened_by_email"] is None
    assert as_customer["opened_by_email"] is None
    emails = {as_agent["opened_by_email"], as_admin["opened_by_email"], closed["opened_by_email"]}
    assert emails == {"mail.owner@example.com"}
    listed = (await customer.list())["items"] + (await agent.list())["items"]
    assert all("opened_by_email" not in item for item in listed)


async def test_a_customers_view_shows_agents_by_name_without_their_email(user: UserFactory, pool: asyncpg.Pool) -> None:
    customer, agent = user(), user(role="agent")
    await known(pool, agent, "Agent Ann", role="agent")
    case = await customer.open()
    await agent.comment(case["id"], "On it")

    response = await customer.get(f"/api/cases/{case['id']}")

    assert response.json()["comments"][0]["author_name"] == "Agent Ann"
    assert "agent.ann@example.com" not in response.text
