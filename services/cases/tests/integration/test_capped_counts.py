"""An agent's counts stop at the cap (CASES_COUNT_CAP, lowered to 3 here) and say so; a customer's stay exact."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from cases_builders import User

from cases.config import Settings

pytestmark = pytest.mark.integration

UserFactory = Callable[..., User]
CAP = 3
FLAGS = ("all_capped", "open_capped", "closed_capped")


@pytest.fixture(scope="module")
def settings(database: str) -> Settings:
    """This module's app (and its fresh database) with a cap of 3."""
    return Settings(environment="test", database_url=database, events_topic=f"cases.test.{uuid.uuid4().hex[:8]}",
                    run_workers=False, count_cap=CAP)  # fmt: skip


async def counts(who: User, **params: str) -> dict[str, Any]:
    response = await who.get("/api/cases/counts", params=params)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def exact(all_: int, open_: int, closed: int) -> dict[str, Any]:
    return {"all": all_, "open": open_, "closed": closed} | dict.fromkeys(FLAGS, False)


def capped(found: dict[str, Any]) -> bool:
    """Past the cap a search's counts are the cap (all) and its split (open, closed), each a lower bound."""
    return found["all"] == found["open"] + found["closed"] == CAP and all(found[k] for k in FLAGS)


async def test_a_search_counts_exactly_up_to_the_cap_then_says_it_stopped(user: UserFactory) -> None:
    agent, customer = user(role="agent"), user()
    first = await customer.open(subject="Walrus sync stalls")
    await customer.open(subject="Walrus export fails")
    await customer.close(first["id"])
    assert await counts(agent, q="walrus") == exact(2, 1, 1)

    await customer.open(subject="Walrus login timeout")
    assert await counts(agent, q="walrus") == exact(3, 2, 1)  # at the cap: still exact

    await customer.open(subject="Walrus login timeouts again")
    assert capped(await counts(agent, q="walrus"))
    assert capped(await counts(agent, q="alru"))  # a partial word: a substring of the subject
    assert capped(await counts(agent, q="WAL"))
    # the search's own meaning: every word a prefix of a subject word
    assert await counts(agent, q="walrus login timeout") == exact(2, 2, 0)
    assert await counts(agent, q="wal tim") == exact(2, 2, 0)
    assert await counts(agent, q="walrus timeouts") == exact(1, 1, 0)
    assert await counts(agent, q="walrus zzzq") == exact(0, 0, 0)
    for nothing in ("%", "_", "___", "zq:* | !(qz)"):  # no word, or wildcards taken literally: nothing matches
        assert await counts(agent, q=nothing) == exact(0, 0, 0), nothing


async def test_every_case_is_counted_per_status_up_to_the_cap(user: UserFactory) -> None:
    agent, customer = user(role="agent"), user()
    for _ in range(CAP + 1):
        closed = await customer.open(subject="Narwhal billing")
        await customer.close(closed["id"])
        await customer.open(subject="Narwhal billing")

    assert await counts(agent) == {"all": 2 * CAP, "open": CAP, "closed": CAP} | dict.fromkeys(FLAGS, True)
    assert capped(await counts(agent, q="narwhal"))


async def test_a_customers_counts_stay_exact_past_the_cap(user: UserFactory) -> None:
    customer, other = user(), user()
    for i in range(CAP + 2):
        await customer.open(subject=f"Octopus report {i}")
    await other.open(subject="Octopus report elsewhere")

    assert await counts(customer) == exact(CAP + 2, CAP + 2, 0)
    assert await counts(customer, q="octopus") == exact(CAP + 2, CAP + 2, 0)
    assert await counts(customer, q="octo rep") == exact(CAP + 2, CAP + 2, 0)
    assert await counts(other, q="octopus") == exact(1, 1, 0)
