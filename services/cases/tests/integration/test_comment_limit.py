"""A case holds at most CASES_MAX_COMMENTS_PER_CASE comments; the next is a 409 saying to open a new case."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import asyncpg
import pytest
from cases_builders import User

from cases.config import Settings

pytestmark = pytest.mark.integration

UserFactory = Callable[..., User]
LIMIT = 3


@pytest.fixture(scope="module")
def settings(database: str) -> Settings:
    return Settings(environment="test", database_url=database, events_topic=f"cases.test.{uuid.uuid4().hex[:8]}",
                    run_workers=False, max_comments_per_case=LIMIT)  # fmt: skip


async def test_a_full_case_refuses_the_next_comment_saying_to_open_a_new_case(
    user: UserFactory, pool: asyncpg.Pool
) -> None:
    owner, agent = user(), user(role="agent")
    case = await owner.open()
    for i in range(LIMIT):
        author = agent if i % 2 else owner
        assert (await author.comment(case["id"], f"comment {i}", internal=author is agent)).status_code == 201

    refused = await owner.comment(case["id"], "one more")

    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["type"].endswith("case-full")
    assert "open a new case" in refused.json()["detail"]
    assert case["number"] in refused.json()["detail"]
    assert await pool.fetchval("SELECT count(*) FROM case_comments WHERE case_id = $1", uuid.UUID(case["id"])) == LIMIT


async def test_the_limit_is_per_case(user: UserFactory) -> None:
    owner = user()
    full = await owner.open()
    for i in range(LIMIT):
        await owner.comment(full["id"], f"comment {i}")

    other = await owner.open()

    assert (await owner.comment(other["id"], "still room here")).status_code == 201
