"""An agent's case-list search chooses its plan by the planner's estimate of the candidates (read_model's
INDEX_FIRST_MAX): few, and the text indexes answer at once; more, and the recent window first. Every plan finds the
same cases in the same order."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import asyncpg
import pytest
from cases_builders import User

from cases.adapters import read_model

pytestmark = pytest.mark.integration

UserFactory = Callable[..., User]

# (RECENT_WINDOW, INDEX_FIRST_MAX): the window answers; the window falls back to the indexes; the indexes at once.
PLANS = {"window": (10_000, -1), "window, then indexes": (1, -1), "indexes first": (10_000, 10**9)}


async def _ids(who: User, **params: object) -> list[str]:
    return [i["id"] for i in (await who.list(**params))["items"]]


@pytest.mark.parametrize("plan", PLANS)
async def test_an_agent_finds_the_same_cases_by_every_plan(
    user: UserFactory, monkeypatch: pytest.MonkeyPatch, plan: str
) -> None:
    window, index_first_max = PLANS[plan]
    monkeypatch.setattr(read_model, "RECENT_WINDOW", window)
    monkeypatch.setattr(read_model, "INDEX_FIRST_MAX", index_first_max)
    word = f"qx{uuid.uuid4().hex[:10]}"
    alice, bob, agent = user(), user(), user(role="agent")
    timeout = (await alice.open(subject=f"{word} login timeout"))["id"]
    invoice = (await bob.open(subject=f"{word} invoice blank"))["id"]
    longer = (await bob.open(subject=f"{word}s export stalls"))["id"]
    await bob.close(invoice)

    assert await _ids(agent, q=word) == [invoice, longer, timeout]
    assert await _ids(agent, q=f"{word} TIME") == [timeout]
    assert await _ids(agent, q=word[2:]) == [invoice, longer, timeout]  # a fragment: a substring of the word
    assert await _ids(agent, q=word, status="closed") == [invoice]
    assert await _ids(agent, q=f"{word} stalls login") == []
    first = await agent.list(q=word, limit=2)
    second = await agent.list(q=word, limit=2, cursor=first["next_cursor"])
    assert [i["id"] for i in first["items"] + second["items"]] == [invoice, longer, timeout]
    assert second["next_cursor"] is None


async def test_the_estimate_tells_a_rare_word_from_a_common_one(pool: asyncpg.Pool) -> None:
    # 4,000 summaries, every one with "common", none with "zyxwvut": then the statistics the planner reads.
    await pool.execute("""
        INSERT INTO case_summaries (id, number, product_id, product_name, subject, description, severity,
                                    prioritised, status, opened_by, opened_at, last_activity_at, version)
        SELECT gen_random_uuid(), 50000000 + g, 'casefold-cloud', 'Casefold Cloud', 'common words ' || g, '', 2,
               false, 'open', gen_random_uuid(), now(), now(), 1
        FROM generate_series(1, 4000) AS g
    """)
    await pool.execute("ANALYZE case_summaries")

    async with pool.acquire() as conn:
        common = await read_model.candidates_estimate(conn, "common")
        phrase = await read_model.candidates_estimate(conn, "common words")
        rare = await read_model.candidates_estimate(conn, "zyxwvut")
        nothing = await read_model.candidates_estimate(conn, "!!")

    assert common > 2_000
    assert phrase > 2_000
    assert rare < 100
    assert nothing <= 1
