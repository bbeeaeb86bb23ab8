"""The private route notifications uses for replies by email: services only, one email one comment, rules as usual."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from cases_builders import User, receipt

from cases.config import DEV_INTERNAL_API_KEY

pytestmark = pytest.mark.integration

UserFactory = Callable[..., User]
SERVICE = {"Authorization": f"Bearer {DEV_INTERNAL_API_KEY}"}


def _email(author: User, body: str = "Thanks, that fixed it.", message_id: str | None = None) -> dict[str, Any]:
    return {"author_id": str(author.user_id), "author_role": author.role, "body": body,
            "inbound_message_id": message_id or f"<{uuid.uuid4()}@mail.customer.test>"}  # fmt: skip


async def _post(client: httpx.AsyncClient, case_id: str, body: dict[str, Any], **headers: str) -> httpx.Response:
    return await client.post(f"/internal/cases/{case_id}/comments", json=body, headers=headers or SERVICE)


async def test_a_reply_by_email_becomes_a_comment_of_its_author(client: httpx.AsyncClient, user: UserFactory) -> None:
    owner = user()
    case = await owner.open()

    response = await _post(client, case["id"], _email(owner))

    assert response.status_code == 201, response.text
    page = (await owner.get(f"/api/cases/{case['id']}")).json()
    [comment] = page["comments"]
    assert comment["body"] == "Thanks, that fixed it."
    assert comment["author_id"] == str(owner.user_id)
    assert comment["internal"] is False


async def test_the_same_email_twice_is_one_comment(client: httpx.AsyncClient, user: UserFactory) -> None:
    owner = user()
    case = await owner.open()
    email = _email(owner)

    first = await _post(client, case["id"], email)
    again = await _post(client, case["id"], email)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert len((await owner.get(f"/api/cases/{case['id']}")).json()["comments"]) == 1


async def test_a_closed_case_refuses_the_reply(client: httpx.AsyncClient, user: UserFactory) -> None:
    owner = user()
    case = await owner.open()
    assert (await owner.close(case["id"])).status_code == 200

    response = await _post(client, case["id"], _email(owner))

    assert response.status_code == 409
    assert "closed" in response.json()["detail"]


async def test_only_the_owner_or_an_agent_may_reply(client: httpx.AsyncClient, user: UserFactory) -> None:
    owner, stranger, agent = user(), user(), user(role="agent")
    case = await owner.open()

    assert (await _post(client, case["id"], _email(stranger))).status_code == 404
    assert (await _post(client, case["id"], _email(agent))).status_code == 201


async def test_the_route_is_for_services_only(client: httpx.AsyncClient, user: UserFactory) -> None:
    owner = user()
    case = await owner.open()

    missing = await client.post(f"/internal/cases/{case['id']}/comments", json=_email(owner))
    wrong = await _post(client, case["id"], _email(owner), Authorization="Bearer not-the-key")
    with_a_user_token = await _post(client, case["id"], _email(owner), **owner.headers)

    assert [r.status_code for r in (missing, wrong, with_a_user_token)] == [401, 401, 401]
    assert (await owner.get(f"/api/cases/{case['id']}")).json()["comments"] == []


async def test_an_attachment_of_a_reply_by_email_is_added_by_its_author_once(
    client: httpx.AsyncClient, user: UserFactory
) -> None:
    owner = user()
    case = await owner.open()
    attachment = {"author_id": str(owner.user_id), "author_role": "customer", "reference": receipt(owner.user_id)}
    url = f"/internal/cases/{case['id']}/attachments"

    first = await client.post(url, json=attachment, headers=SERVICE)
    again = await client.post(url, json=attachment, headers=SERVICE)

    assert (first.status_code, again.status_code) == (201, 200), first.text
    [added] = (await owner.get(f"/api/cases/{case['id']}")).json()["attachments"]
    assert added["id"] == first.json()["id"]
    assert added["added_by"] == str(owner.user_id)


async def test_an_attachment_route_checks_the_key_the_receipt_and_the_case(
    client: httpx.AsyncClient, user: UserFactory
) -> None:
    owner, stranger = user(), user()
    case = await owner.open()
    url = f"/internal/cases/{case['id']}/attachments"
    mine = {"author_id": str(owner.user_id), "author_role": "customer", "reference": receipt(owner.user_id)}
    someone_elses = {**mine, "reference": receipt(stranger.user_id)}
    by_stranger = {**mine, "author_id": str(stranger.user_id), "reference": receipt(stranger.user_id)}

    assert (await client.post(url, json=mine)).status_code == 401
    assert (await client.post(url, json=someone_elses, headers=SERVICE)).status_code == 422
    assert (await client.post(url, json=by_stranger, headers=SERVICE)).status_code == 404
    assert (await owner.close(case["id"])).status_code == 200
    assert (await client.post(url, json=mine, headers=SERVICE)).status_code == 409
