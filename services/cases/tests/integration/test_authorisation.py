"""Who may do what: customers see and act on their own cases only (anything else is 404); agents see all."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from cases_builders import User, receipt

pytestmark = pytest.mark.integration

UserFactory = Callable[..., User]


async def test_customer_a_can_neither_read_list_comment_on_attach_to_nor_close_bs_case(user: UserFactory) -> None:
    alice, bob = user(), user()
    case = await bob.open(subject="Bob's private trouble")
    base = f"/api/cases/{case['id']}"

    reads = [
        await alice.get(base),
        await alice.get(f"/api/cases/by-number/{case['number']}"),
        await alice.get(base, params={"as_of_version": 1}),
        await alice.get(base, params={"as_of": "2100-01-01T00:00:00Z"}),
    ]
    writes = [
        await alice.comment(case["id"]),
        await alice.post(f"{base}/attachments", json={"reference": receipt(alice.user_id)}),
        await alice.close(case["id"]),
    ]

    for response in reads + writes:
        assert response.status_code == 404, response.text
        assert response.json()["detail"] == "No case with this id or number is visible to you."
    listed = await alice.list(q="Bob")
    assert all(item["id"] != case["id"] for item in listed["items"])
    counted = (await alice.get("/api/cases/counts", params={"q": "Bob"})).json()
    assert (counted["all"], counted["open"], counted["closed"], counted["all_capped"]) == (0, 0, 0, False)
    after = (await bob.get(base)).json()
    assert after["status"] == "open"
    assert after["version"] == 1


async def test_not_found_and_not_yours_are_indistinguishable(user: UserFactory) -> None:
    alice, bob = user(), user()
    case = await bob.open()

    theirs = await alice.get(f"/api/cases/{case['id']}")
    missing = await alice.get(f"/api/cases/{uuid.uuid4()}")

    assert theirs.status_code == missing.status_code == 404
    assert {k: v for k, v in theirs.json().items() if k != "error_id"} == {
        k: v for k, v in missing.json().items() if k != "error_id"
    }


@pytest.mark.parametrize("role", ["agent", "admin"])
async def test_agents_and_admins_see_list_comment_and_close_every_case(user: UserFactory, role: str) -> None:
    customer, staff = user(), user(role=role)
    case = await customer.open(subject=f"Needs {role} help")

    assert (await staff.get(f"/api/cases/{case['id']}")).status_code == 200
    assert case["id"] in [i["id"] for i in (await staff.list(q=f"Needs {role}"))["items"]]
    assert (await staff.comment(case["id"], "on it")).status_code == 201
    assert (await staff.close(case["id"])).status_code == 200


async def test_customers_list_only_their_own_cases(user: UserFactory) -> None:
    alice, bob = user(), user()
    mine = {(await alice.open())["id"] for _ in range(2)}
    await bob.open()

    listed = await alice.list()

    assert {i["id"] for i in listed["items"]} == mine


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/cases/products"),
        ("GET", "/api/cases"),
        ("POST", "/api/cases"),
        ("GET", f"/api/cases/{uuid.UUID(int=1)}"),
        ("GET", "/api/cases/by-number/1"),
        ("POST", f"/api/cases/{uuid.UUID(int=1)}/comments"),
        ("POST", f"/api/cases/{uuid.UUID(int=1)}/attachments"),
        ("POST", f"/api/cases/{uuid.UUID(int=1)}/close"),
    ],
)
async def test_every_endpoint_needs_a_valid_token(user: UserFactory, method: str, path: str) -> None:
    client = user().client

    anonymous = await client.request(method, path, json={})
    forged = await client.request(method, path, json={}, headers={"Authorization": "Bearer not.a.token"})

    assert anonymous.status_code == 401
    assert forged.status_code == 401
    assert anonymous.headers["content-type"].startswith("application/problem+json")
