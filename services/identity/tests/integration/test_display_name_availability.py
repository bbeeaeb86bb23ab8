"""GET /display-names/availability answers by sign-up's own rules: validation first, then the look-alike key."""

from __future__ import annotations

import uuid

import httpx
import pytest
from identity_builders import running_server, settings_for, sign_up, unique_person

pytestmark = pytest.mark.integration

PATH = "/api/identity/display-names/availability"


async def check(client: httpx.AsyncClient, name: str) -> dict[str, object]:
    response = await client.get(PATH, params={"display_name": name})
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


async def test_a_free_name_is_available(client: httpx.AsyncClient) -> None:
    _, name = unique_person()
    assert await check(client, name) == {"display_name": name, "available": True, "reason": None}


async def test_a_taken_name_and_its_look_alikes_are_not(client: httpx.AsyncClient) -> None:
    tag = uuid.uuid4().hex[:6].replace("0", "a").replace("1", "b").replace("i", "c").replace("5", "d")
    user = await sign_up(client, name=f"Admin {tag}")
    for name in (user["display_name"], f"ADMIN {tag}", f"adm1n {tag}", f"Ad min{tag}"):
        answer = await check(client, name)
        assert answer["available"] is False, name
        assert "already taken" in str(answer["reason"])
        assert answer["display_name"] == name
    sign_up_again = await client.post(
        "/api/identity/users",
        json={"email": unique_person()[0], "password": "correct horse battery staple 42",
              "display_name": f"adm1n {tag}", "accept_terms": True},
    )  # fmt: skip
    assert sign_up_again.status_code == 409, "the check and sign-up disagree"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("ab", "3 to 32 characters"),
        ("x" * 128, "3 to 32 characters"),
        ("Bob\u200bby", "invisible"),
        ("Pаypal", "mix alphabets"),
        ("semi;colon", "letters, digits"),
    ],
)
async def test_a_name_sign_up_would_refuse_says_why(client: httpx.AsyncClient, name: str, reason: str) -> None:
    answer = await check(client, name)
    assert answer["available"] is False
    assert reason in str(answer["reason"])


@pytest.mark.parametrize("params", [{}, {"display_name": ""}, {"display_name": "x" * 129}])
async def test_a_missing_or_overlong_parameter_is_422(client: httpx.AsyncClient, params: dict[str, str]) -> None:
    response = await client.get(PATH, params=params)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["query.display_name"]


async def test_checks_are_rate_limited_per_client_address(database: str) -> None:
    settings = settings_for(database, name_checks_per_address_per_minute=3, trust_forwarded_for=True)
    async with running_server(settings) as url, httpx.AsyncClient(base_url=url) as http:
        here = {"X-Forwarded-For": f"198.51.100.{uuid.uuid4().int % 250}, 10.0.0.{uuid.uuid4().int % 250}"}
        answers = [await http.get(PATH, params={"display_name": "Someone"}, headers=here) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert int(answers[-1].headers["retry-after"]) >= 1
        elsewhere = {"X-Forwarded-For": "203.0.113.7"}
        assert (await http.get(PATH, params={"display_name": "Someone"}, headers=elsewhere)).status_code == 200
