"""Sign-up, confirmation, login, profile and logout through the real server."""

from __future__ import annotations

import httpx
import pytest
from identity_builders import STRONG_PASSWORD, bearer, latest_token, log_in, sign_up, unique_person

from identity.config import Settings

pytestmark = pytest.mark.integration


async def test_the_whole_flow_from_sign_up_to_logout(client: httpx.AsyncClient, settings: Settings) -> None:
    email, name = unique_person()
    user = await sign_up(client, email.upper().replace("EXAMPLE.COM", "Example.COM"), name)
    assert user["email_verified"] is False
    assert user["role"] == "customer"
    assert user["email"].endswith("@example.com")

    token = await latest_token(settings.database_url, settings.mail_topic, user["id"])
    assert (await client.post("/api/identity/email-confirmations", json={"token": token})).status_code == 204
    again = await client.post("/api/identity/email-confirmations", json={"token": token})
    assert again.status_code == 400

    pair = await log_in(client, email)
    assert pair["token_type"] == "Bearer"
    assert pair["expires_in"] == 900
    me = await client.get("/api/identity/me", headers=bearer(pair["access_token"]))
    assert me.status_code == 200
    assert me.json()["email_verified"] is True

    logout = await client.request(
        "DELETE", "/api/identity/sessions/current", json={"refresh_token": pair["refresh_token"]}
    )
    assert logout.status_code == 204
    after = await client.get("/api/identity/me", headers=bearer(pair["access_token"]))
    assert after.status_code == 401
    refreshed = await client.post("/api/identity/sessions/refresh", json={"refresh_token": pair["refresh_token"]})
    assert refreshed.status_code == 401


async def test_login_does_not_tell_whether_the_email_exists(client: httpx.AsyncClient) -> None:
    user = await sign_up(client)
    wrong = await client.post("/api/identity/sessions", json={"email": user["email"], "password": "not it at all 1"})
    unknown = await client.post(
        "/api/identity/sessions", json={"email": "nobody.at.all@example.com", "password": STRONG_PASSWORD}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]


async def test_a_revoked_session_is_refused_by_identity_itself(client: httpx.AsyncClient) -> None:
    user = await sign_up(client)
    first = await log_in(client, user["email"])
    second = await log_in(client, user["email"])
    response = await client.request(
        "DELETE", "/api/identity/sessions/current", json={"refresh_token": first["refresh_token"]}
    )
    assert response.status_code == 204
    assert (await client.get("/api/identity/me", headers=bearer(first["access_token"]))).status_code == 401
    assert (await client.get("/api/identity/me", headers=bearer(second["access_token"]))).status_code == 200
