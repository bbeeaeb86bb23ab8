"""The refresh token as an HttpOnly cookie on the session routes: set, rotated, used for logout, cleared."""

from __future__ import annotations

from typing import Any

import httpx
import jwt
import pytest
from identity_builders import bearer, latest_token, log_in, sign_up

from identity.config import Settings

pytestmark = pytest.mark.integration

SESSIONS = "/api/identity/sessions"
REFRESH = f"{SESSIONS}/refresh"
LOGOUT = f"{SESSIONS}/current"


def refresh_cookie(response: httpx.Response) -> tuple[str, list[str]]:
    """The casefold_refresh value and its attributes, exactly as the one Set-Cookie header spells them."""
    headers = [h for h in response.headers.get_list("set-cookie") if h.startswith("casefold_refresh=")]
    assert len(headers) == 1, response.headers
    first, *attributes = [part.strip() for part in headers[0].split(";")]
    return first.removeprefix("casefold_refresh="), attributes


def with_cookie(token: str) -> dict[str, str]:
    # Sent by hand: httpx, like a browser on a non-local host, keeps a Secure cookie off plain http.
    return {"Cookie": f"casefold_refresh={token}"}


async def test_login_and_refresh_set_the_cookie_with_its_attributes(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    user = await sign_up(client)
    login = await client.post(SESSIONS, json={"email": user["email"], "password": "correct horse battery staple 42"})
    value, attributes = refresh_cookie(login)
    assert value == login.json()["refresh_token"]
    max_age = f"Max-Age={settings.refresh_token_days * 24 * 3600}"
    assert attributes == ["HttpOnly", "Secure", "SameSite=Strict", "Path=/api/identity/sessions", max_age]

    refreshed = await client.post(REFRESH, json={"refresh_token": value})
    new_value, new_attributes = refresh_cookie(refreshed)
    assert new_value == refreshed.json()["refresh_token"] != value
    assert new_attributes == attributes


async def test_refresh_by_cookie_rotates_and_a_reused_cookie_ends_the_session(client: httpx.AsyncClient) -> None:
    user = await sign_up(client)
    first = await log_in(client, user["email"])
    rotated = await client.post(REFRESH, headers=with_cookie(first["refresh_token"]))
    assert rotated.status_code == 200, rotated.text
    second, _ = refresh_cookie(rotated)
    assert second == rotated.json()["refresh_token"] != first["refresh_token"]
    assert (await client.get("/api/identity/me", headers=bearer(rotated.json()["access_token"]))).status_code == 200

    reused = await client.post(REFRESH, headers=with_cookie(first["refresh_token"]))
    assert reused.status_code == 401
    assert (await client.post(REFRESH, headers=with_cookie(second))).status_code == 401, "the session lives on"
    assert (await client.get("/api/identity/me", headers=bearer(rotated.json()["access_token"]))).status_code == 401


async def test_an_empty_body_uses_the_cookie_and_a_body_token_wins_over_it(client: httpx.AsyncClient) -> None:
    user = await sign_up(client)
    by_cookie = await log_in(client, user["email"])
    by_body = await log_in(client, user["email"])
    empty = await client.post(REFRESH, json={}, headers=with_cookie(by_cookie["refresh_token"]))
    assert empty.status_code == 200
    body_first = await client.post(
        REFRESH, json={"refresh_token": by_body["refresh_token"]}, headers=with_cookie("not-the-token")
    )
    assert body_first.status_code == 200
    assert (
        jwt.decode(body_first.json()["access_token"], options={"verify_signature": False})["sid"]
        == (jwt.decode(by_body["access_token"], options={"verify_signature": False})["sid"])
    )


async def test_logout_by_cookie_revokes_the_session_and_clears_the_cookie(client: httpx.AsyncClient) -> None:
    user = await sign_up(client)
    pair = await log_in(client, user["email"])
    logout = await client.delete(LOGOUT, headers=with_cookie(pair["refresh_token"]))
    assert logout.status_code == 204
    value, attributes = refresh_cookie(logout)
    assert value == ""
    assert "Max-Age=0" in attributes
    assert "Path=/api/identity/sessions" in attributes
    assert (await client.get("/api/identity/me", headers=bearer(pair["access_token"]))).status_code == 401
    assert (await client.post(REFRESH, headers=with_cookie(pair["refresh_token"]))).status_code == 401


@pytest.mark.parametrize(("method", "path"), [("POST", REFRESH), ("DELETE", LOGOUT)])
async def test_no_token_in_body_or_cookie_is_a_401_problem(client: httpx.AsyncClient, method: str, path: str) -> None:
    bodies: list[dict[str, Any]] = [{}, {"json": {}}]
    for kwargs in bodies:
        response = await client.request(method, path, **kwargs)
        assert response.status_code == 401, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert "casefold_refresh" in response.json()["detail"]
        assert response.json()["error_id"]


async def test_a_refreshed_token_shows_an_address_confirmed_after_login(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    user = await sign_up(client)
    pair = await log_in(client, user["email"])
    assert jwt.decode(pair["access_token"], options={"verify_signature": False})["email_verified"] is False
    token = await latest_token(settings.database_url, settings.mail_topic, user["id"])
    assert (await client.post("/api/identity/email-confirmations", json={"token": token})).status_code == 204
    refreshed = await client.post(REFRESH, headers=with_cookie(pair["refresh_token"]))
    claims = jwt.decode(refreshed.json()["access_token"], options={"verify_signature": False})
    assert claims["email_verified"] is True
    assert claims["role"] == "customer"
