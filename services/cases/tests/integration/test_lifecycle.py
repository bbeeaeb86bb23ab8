"""A case's life over HTTP on the real database: open, comment, attach, close; numbers, priority, time travel."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import asyncpg
import pytest
from cases_builders import User, receipt

pytestmark = pytest.mark.integration

UserFactory = Callable[..., User]


async def test_products_are_listed(user: UserFactory) -> None:
    response = await user().get("/api/cases/products")

    assert response.status_code == 200
    assert {"id": "casefold-cloud", "name": "Casefold Cloud"} in response.json()


async def test_open_case_returns_the_case_with_a_zero_padded_number(user: UserFactory) -> None:
    alice = user()

    case = await alice.open(subject="Login page slow", severity=3)

    assert case["number"].isdigit()
    assert len(case["number"]) == 8
    assert case["product"] == {"id": "casefold-cloud", "name": "Casefold Cloud"}
    assert case["status"] == "open"
    assert case["closed_at"] is None
    assert case["prioritised"] is False
    assert case["opened_by"] == str(alice.user_id)
    assert case["version"] == 1
    assert case["comments"] == []
    assert case["attachments"] == []
    assert case["opened_at"] == case["last_activity_at"]


async def test_case_numbers_are_sequential_and_unique(user: UserFactory) -> None:
    alice = user()
    numbers = [int((await alice.open())["number"]) for _ in range(3)]

    assert numbers == sorted(numbers)
    assert len(set(numbers)) == 3
    assert numbers[2] - numbers[0] == 2


async def test_production_down_prioritises_and_the_event_records_the_rule(
    user: UserFactory, pool: asyncpg.Pool
) -> None:
    case = await user().open(subject="production is down since 9")
    case2 = await user().open(subject="URGENT production DOWN")

    assert case["prioritised"] is False
    assert case2["prioritised"] is True
    payload = await pool.fetchval(
        "SELECT payload->>'priority_rule' FROM events WHERE stream_id = $1 AND stream_version = 1", case2["id"]
    )
    assert payload == "subject-contains-production-down"


async def test_case_page_by_id_and_by_number_padded_or_not(user: UserFactory) -> None:
    alice = user()
    case = await alice.open()
    short = str(int(case["number"]))

    by_id = (await alice.get(f"/api/cases/{case['id']}")).json()
    padded = (await alice.get(f"/api/cases/by-number/{case['number']}")).json()
    unpadded = (await alice.get(f"/api/cases/by-number/{short}")).json()

    assert by_id == padded == unpadded == case


async def test_comments_in_order_with_internal_ones_hidden_from_the_customer(user: UserFactory) -> None:
    alice, agent = user(), user(role="agent")
    case = await alice.open()

    first = await alice.comment(case["id"], "first")
    second = await agent.comment(case["id"], "only for agents", internal=True)
    third = await agent.comment(case["id"], "answer")

    assert [r.status_code for r in (first, second, third)] == [201, 201, 201]
    assert first.json()["author_role"] == "customer"
    assert second.json()["internal"] is True
    as_customer = (await alice.get(f"/api/cases/{case['id']}")).json()
    as_agent = (await agent.get(f"/api/cases/{case['id']}")).json()
    assert [c["body"] for c in as_customer["comments"]] == ["first", "answer"]
    assert [c["body"] for c in as_agent["comments"]] == ["first", "only for agents", "answer"]
    assert as_agent["version"] == 4
    assert as_agent["last_activity_at"] == third.json()["created_at"]


async def test_customer_may_not_mark_a_comment_internal(user: UserFactory) -> None:
    alice = user()
    case = await alice.open()

    response = await alice.comment(case["id"], internal=True)

    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_attachments_by_reference_on_open_and_later(user: UserFactory) -> None:
    alice, agent = user(), user(role="agent")
    case = await alice.open(attachments=[receipt(alice.user_id)])

    added = await alice.post(f"/api/cases/{case['id']}/attachments", json={"reference": receipt(alice.user_id)})
    by_agent = await agent.post(f"/api/cases/{case['id']}/attachments", json={"reference": receipt(agent.user_id)})

    assert added.status_code == 201
    assert by_agent.status_code == 201
    page = (await alice.get(f"/api/cases/{case['id']}")).json()
    assert [a["id"] for a in page["attachments"]] == [
        case["attachments"][0]["id"],
        added.json()["id"],
        by_agent.json()["id"],
    ]


async def test_attachment_references_are_verified(user: UserFactory) -> None:
    alice, bob = user(), user()
    case = await alice.open()
    url = f"/api/cases/{case['id']}/attachments"
    from datetime import timedelta

    forged = receipt(alice.user_id, key=b"another-key")
    expired = receipt(alice.user_id, ttl=timedelta(seconds=-1))
    others = receipt(bob.user_id)

    for reference in (forged, expired, others, "garbage"):
        response = await alice.post(url, json={"reference": reference})
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == "body.reference"
    on_open = await alice.post("/api/cases", json={"product": "casefold-cloud", "subject": "s", "description": "d",
                                                   "severity": 1, "attachments": [others]})  # fmt: skip
    assert on_open.status_code == 422
    assert on_open.json()["errors"][0]["field"] == "body.attachments.0"


async def test_the_same_attachment_twice_is_a_conflict(user: UserFactory) -> None:
    alice = user()
    case = await alice.open()
    reference = receipt(alice.user_id)
    url = f"/api/cases/{case['id']}/attachments"

    assert (await alice.post(url, json={"reference": reference})).status_code == 201
    again = await alice.post(url, json={"reference": reference})

    assert again.status_code == 409
    assert len((await alice.get(f"/api/cases/{case['id']}")).json()["attachments"]) == 1


async def test_close_is_immediate_and_final(user: UserFactory) -> None:
    alice, agent = user(), user(role="agent")
    case = await alice.open()

    closed = await alice.close(case["id"])

    assert closed.status_code == 200
    assert closed.json()["status"] == "closed"
    assert closed.json()["closed_at"] is not None
    for response in (
        await alice.comment(case["id"]),
        await agent.comment(case["id"]),
        await alice.close(case["id"]),
        await agent.close(case["id"]),
        await alice.post(f"/api/cases/{case['id']}/attachments", json={"reference": receipt(alice.user_id)}),
    ):
        assert response.status_code == 409
        assert "closed" in response.json()["detail"]
        assert "new case" in response.json()["detail"]
    assert (await alice.get(f"/api/cases/{case['id']}")).json()["status"] == "closed"


async def test_agent_may_close_a_customers_case(user: UserFactory) -> None:
    case = await user().open()

    assert (await user(role="agent").close(case["id"])).json()["status"] == "closed"


async def test_unverified_customer_gets_403_with_a_clear_message(user: UserFactory) -> None:
    response = await user(email_verified=False).post(
        "/api/cases", json={"product": "casefold-cloud", "subject": "s", "description": "d", "severity": 1}
    )

    assert response.status_code == 403
    assert "Confirm your email" in response.json()["detail"]


async def test_agents_do_not_open_cases(user: UserFactory) -> None:
    response = await user(role="agent").post(
        "/api/cases", json={"product": "casefold-cloud", "subject": "s", "description": "d", "severity": 1}
    )

    assert response.status_code == 403


async def test_unknown_product_lists_the_valid_ones(user: UserFactory) -> None:
    response = await user().post(
        "/api/cases", json={"product": "nope", "subject": "s", "description": "d", "severity": 1}
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.product"
    assert "casefold-cloud" in response.json()["detail"]


async def test_time_travel_by_version_and_by_time(user: UserFactory) -> None:
    alice = user()
    case = await alice.open()
    for i in range(7):  # past the snapshot interval of the tests (5)
        await alice.comment(case["id"], f"c{i}")
    middle = datetime.now(UTC)
    await alice.close(case["id"])
    base = f"/api/cases/{case['id']}"

    at_v1 = (await alice.get(base, params={"as_of_version": 1})).json()
    at_v6 = (await alice.get(base, params={"as_of_version": 6})).json()
    before_close = (await alice.get(base, params={"as_of": middle.isoformat()})).json()
    now = (await alice.get(base)).json()
    latest = (await alice.get(base, params={"as_of_version": now["version"]})).json()

    assert at_v1 == case
    assert at_v6["version"] == 6
    assert [c["body"] for c in at_v6["comments"]] == [f"c{i}" for i in range(5)]
    assert before_close["status"] == "open"
    assert before_close["version"] == 8
    assert latest == now


async def test_time_travel_before_the_case_existed_is_404(user: UserFactory) -> None:
    alice = user()
    case = await alice.open()

    response = await alice.get(f"/api/cases/{case['id']}", params={"as_of": "2000-01-01T00:00:00Z"})

    assert response.status_code == 404


async def test_unknown_case_is_404(user: UserFactory) -> None:
    alice = user()

    assert (await alice.get(f"/api/cases/{uuid.uuid4()}")).status_code == 404
    assert (await alice.get("/api/cases/by-number/99999999")).status_code == 404
    assert (await alice.comment(str(uuid.uuid4()))).status_code == 404
    assert (await alice.close(str(uuid.uuid4()))).status_code == 404
