"""A NUL character (U+0000), which PostgreSQL text cannot hold, is a 422 naming the field, never a 500."""

from __future__ import annotations

from collections.abc import Callable

import asyncpg
import pytest
from cases_builders import User

pytestmark = pytest.mark.integration

UserFactory = Callable[..., User]
OPEN = {"product": "casefold-cloud", "subject": "Exports fail", "description": "CSV export errors.", "severity": 2}


def _fields(response: object) -> list[str]:
    assert hasattr(response, "json")
    return [e["field"] for e in response.json()["errors"]]


@pytest.mark.parametrize(("field", "value"), [("subject", "Exports\u0000 fail"), ("description", "\u0000")])
async def test_open_with_a_nul_character_is_422_naming_the_field(
    user: UserFactory, pool: asyncpg.Pool, field: str, value: str
) -> None:
    before = await pool.fetchval("SELECT count(*) FROM events")

    response = await user().post("/api/cases", json={**OPEN, field: value})

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert _fields(response) == [f"body.{field}"]
    assert "NUL" in response.json()["detail"]
    assert await pool.fetchval("SELECT count(*) FROM events") == before


async def test_comment_with_a_nul_character_is_422_naming_the_body(user: UserFactory) -> None:
    owner = user()
    case = await owner.open()

    response = await owner.comment(case["id"], "see the log:\u0000 attached")

    assert response.status_code == 422, response.text
    assert _fields(response) == ["body.body"]
    page = await owner.get(f"/api/cases/{case['id']}")
    assert page.json()["comments"] == []


@pytest.mark.parametrize("path", ["/api/cases", "/api/cases/counts"])
async def test_search_with_a_nul_character_is_422_naming_q(user: UserFactory, path: str) -> None:
    response = await user().get(path, params={"q": "exp\u0000orts"})

    assert response.status_code == 422, response.text
    assert _fields(response) == ["query.q"]
