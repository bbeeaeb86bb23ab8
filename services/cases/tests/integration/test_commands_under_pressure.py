"""Idempotency keys, concurrent commands on one case, and bad input that must never be a 500."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import asyncpg
import pytest
from cases_builders import User

pytestmark = pytest.mark.integration

UserFactory = Callable[..., User]
OPEN = {"product": "casefold-cloud", "subject": "Idempotent", "description": "d", "severity": 2}


async def _events_of(pool: asyncpg.Pool, case_id: str) -> list[str]:
    rows = await pool.fetch("SELECT event_type FROM events WHERE stream_id = $1 ORDER BY stream_version", case_id)
    return [r["event_type"] for r in rows]


async def test_open_with_the_same_idempotency_key_returns_the_first_case_and_appends_nothing(
    user: UserFactory, pool: asyncpg.Pool
) -> None:
    alice = user()
    before = await pool.fetchval("SELECT count(*) FROM events")

    first = await alice.post("/api/cases", json=OPEN, headers={"Idempotency-Key": "open-1"})
    again = await alice.post("/api/cases", json=OPEN, headers={"Idempotency-Key": "open-1"})

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert await pool.fetchval("SELECT count(*) FROM events") == before + 1
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE message_key = $1", first.json()["id"]) == 1


async def test_concurrent_repeats_of_one_key_open_one_case(user: UserFactory) -> None:
    alice = user()

    responses = await asyncio.gather(
        *(alice.post("/api/cases", json=OPEN, headers={"Idempotency-Key": "burst"}) for _ in range(5))
    )

    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1


async def test_a_key_reused_with_another_body_is_a_conflict(user: UserFactory) -> None:
    alice = user()
    await alice.post("/api/cases", json=OPEN, headers={"Idempotency-Key": "k"})

    other = await alice.post("/api/cases", json={**OPEN, "subject": "other"}, headers={"Idempotency-Key": "k"})

    assert other.status_code == 409


async def test_keys_are_per_user(user: UserFactory) -> None:
    a = await user().post("/api/cases", json=OPEN, headers={"Idempotency-Key": "shared"})
    b = await user().post("/api/cases", json=OPEN, headers={"Idempotency-Key": "shared"})

    assert a.json()["id"] != b.json()["id"]


async def test_comment_with_the_same_key_is_added_once(user: UserFactory, pool: asyncpg.Pool) -> None:
    alice = user()
    case = await alice.open()
    url = f"/api/cases/{case['id']}/comments"

    first = await alice.post(url, json={"body": "once"}, headers={"Idempotency-Key": "c1"})
    again = await alice.post(url, json={"body": "once"}, headers={"Idempotency-Key": "c1"})

    assert first.json() == again.json()
    assert await _events_of(pool, case["id"]) == ["CaseOpened", "CommentAdded"]


async def test_concurrent_comments_all_land_with_bounded_retries(user: UserFactory, pool: asyncpg.Pool) -> None:
    alice = user()
    case = await alice.open()

    responses = await asyncio.gather(*(alice.comment(case["id"], f"c{i}") for i in range(4)))

    assert {r.status_code for r in responses} <= {201, 409}
    landed = [r for r in responses if r.status_code == 201]
    assert len(landed) >= 1
    assert await _events_of(pool, case["id"]) == ["CaseOpened"] + ["CommentAdded"] * len(landed)


async def test_concurrent_close_and_comment_one_wins_cleanly(user: UserFactory, pool: asyncpg.Pool) -> None:
    for _ in range(5):
        alice, agent = user(), user(role="agent")
        case = await alice.open()

        comment, close = await asyncio.gather(agent.comment(case["id"], "racing"), alice.close(case["id"]))

        assert close.status_code == 200
        events = await _events_of(pool, case["id"])
        assert events[-1] == "CaseClosed"
        if comment.status_code == 201:
            assert events == ["CaseOpened", "CommentAdded", "CaseClosed"]
        else:
            assert comment.status_code == 409
            assert "closed" in comment.json()["detail"]
            assert events == ["CaseOpened", "CaseClosed"]


async def test_concurrent_closes_one_wins_the_other_gets_409(user: UserFactory, pool: asyncpg.Pool) -> None:
    alice, agent = user(), user(role="agent")
    case = await alice.open()

    responses = await asyncio.gather(alice.close(case["id"]), agent.close(case["id"]))

    assert sorted(r.status_code for r in responses) == [200, 409]
    assert await _events_of(pool, case["id"]) == ["CaseOpened", "CaseClosed"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**OPEN, "severity": 0}, "body.severity"),
        ({**OPEN, "severity": 4}, "body.severity"),
        ({**OPEN, "severity": "2"}, "body.severity"),
        ({**OPEN, "severity": 2.5}, "body.severity"),
        ({**OPEN, "subject": ""}, "body.subject"),
        ({**OPEN, "subject": "   "}, "body.subject"),
        ({**OPEN, "subject": "x" * 201}, "body.subject"),
        ({**OPEN, "description": "x" * 20_001}, "body.description"),
        ({**OPEN, "product": "p" * 65}, "body.product"),
        ({**OPEN, "unexpected": 1}, "body.unexpected"),
        ({**OPEN, "attachments": "ref"}, "body.attachments"),
        ({**OPEN, "attachments": ["r"] * 21}, "body.attachments"),
        ({k: v for k, v in OPEN.items() if k != "subject"}, "body.subject"),
    ],
)
async def test_bad_open_bodies_are_422_naming_the_field(user: UserFactory, body: object, field: str) -> None:
    response = await user().post("/api/cases", json=body)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in response.json()["errors"]]


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b"[]", "application/json", 422),
        (b"null", "application/json", 422),
        (b'{"body": "' + b"x" * 70_000 + b'"}', "application/json", 413),
        (b"body=hello", "application/x-www-form-urlencoded", 415),
    ],
)
async def test_malformed_or_oversized_bodies_are_4xx(
    user: UserFactory, content: bytes, content_type: str, status: int
) -> None:
    alice = user()
    case = await alice.open()

    response = await alice.post(
        f"/api/cases/{case['id']}/comments", content=content, headers={"Content-Type": content_type}
    )

    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/cases/not-a-uuid", {}, "path.case_id"),
        ("/api/cases/by-number/12ab", {}, "path.number"),
        ("/api/cases", {"cursor": "garbage"}, "query.cursor"),
        ("/api/cases", {"status": "pending"}, "query.status"),
        ("/api/cases", {"limit": 0}, "query.limit"),
        ("/api/cases", {"limit": 101}, "query.limit"),
        ("/api/cases", {"q": "x" * 201}, "query.q"),
        ("/api/cases/00000000-0000-0000-0000-000000000001", {"as_of_version": 0}, "query.as_of_version"),
        ("/api/cases/00000000-0000-0000-0000-000000000001", {"as_of": "yesterday"}, "query.as_of"),
        ("/api/cases/00000000-0000-0000-0000-000000000001", {"as_of": "2026-01-01T00:00:00"}, "query.as_of"),
        ("/api/cases/00000000-0000-0000-0000-000000000001", {"as_of": "2026-01-01T00:00:00Z", "as_of_version": 1},
         "query.as_of"),
    ],
)  # fmt: skip
async def test_bad_ids_cursors_and_queries_are_422_naming_the_field(
    user: UserFactory, path: str, params: dict[str, object], field: str
) -> None:
    response = await user().get(path, params=params)

    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]


async def test_comment_body_limits_and_unknown_fields(user: UserFactory) -> None:
    alice = user()
    case = await alice.open()
    url = f"/api/cases/{case['id']}/comments"

    for body, field in [({"body": ""}, "body.body"), ({"body": "x", "internal": "yes"}, "body.internal"),
                        ({"body": "x", "author": "someone"}, "body.author")]:  # fmt: skip
        response = await alice.post(url, json=body)
        assert response.status_code == 422
        assert field in [e["field"] for e in response.json()["errors"]]


async def test_an_oversized_idempotency_key_is_422(user: UserFactory) -> None:
    response = await user().post("/api/cases", json=OPEN, headers={"Idempotency-Key": "k" * 201})

    assert response.status_code == 422
