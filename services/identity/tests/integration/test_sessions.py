"""Refresh rotation, reuse detection, and tokens judged by another service's verifier (libs/events)."""

from __future__ import annotations

import asyncio
import time

import httpx
import jwt
import pytest
from identity_builders import bearer, log_in, running_server, settings_for, sign_up

from casefold_platform.auth import JwksVerifier
from casefold_platform.problems import Unauthorized
from casefold_platform.revocation import RevocationList
from casefold_platform.settings import ServiceSettings
from identity.config import Settings

pytestmark = pytest.mark.integration


def verifier_of(base_url: str, **kwargs: object) -> JwksVerifier:
    return JwksVerifier(f"{base_url}/api/identity/.well-known/jwks.json", **kwargs)  # type: ignore[arg-type]


async def refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/api/identity/sessions/refresh", json={"refresh_token": token})


async def test_access_token_claims(client: httpx.AsyncClient, base_url: str) -> None:
    user = await sign_up(client)
    pair = await log_in(client, user["email"])
    header = jwt.get_unverified_header(pair["access_token"])
    claims = jwt.decode(pair["access_token"], options={"verify_signature": False})
    assert header["alg"] == "ES256"
    assert header["kid"] in {k["kid"] for k in (await client.get("/api/identity/.well-known/jwks.json")).json()["keys"]}
    assert claims["sub"] == user["id"]
    assert (claims["role"], claims["display_name"], claims["email_verified"]) == (
        "customer",
        user["display_name"],
        False,
    )
    assert (claims["iss"], claims["aud"]) == ("casefold-identity", "casefold")
    assert claims["exp"] - claims["iat"] == 900
    assert claims["jti"]
    assert claims["sid"]
    principal = await verifier_of(base_url).verify(pair["access_token"])
    assert str(principal.user_id) == user["id"]


async def test_refresh_rotates_and_reuse_revokes_the_family(client: httpx.AsyncClient) -> None:
    user = await sign_up(client)
    first = await log_in(client, user["email"])
    second = (await refresh(client, first["refresh_token"])).json()
    assert second["refresh_token"] != first["refresh_token"]
    third = (await refresh(client, second["refresh_token"])).json()
    assert (await client.get("/api/identity/me", headers=bearer(third["access_token"]))).status_code == 200

    reused = await refresh(client, first["refresh_token"])
    assert reused.status_code == 401
    assert (await refresh(client, third["refresh_token"])).status_code == 401, "the family was not revoked"
    assert (await client.get("/api/identity/me", headers=bearer(third["access_token"]))).status_code == 401


async def test_concurrent_refreshes_with_one_token_issue_one_pair(client: httpx.AsyncClient) -> None:
    user = await sign_up(client)
    pair = await log_in(client, user["email"])
    answers = await asyncio.gather(*(refresh(client, pair["refresh_token"]) for _ in range(4)))
    assert sorted(a.status_code for a in answers) == [200, 401, 401, 401]


async def test_a_logged_out_token_is_refused_by_another_services_verifier(
    client: httpx.AsyncClient, base_url: str
) -> None:
    revoked = RevocationList(f"{base_url}/internal/identity/revoked-tokens", max_age=0)
    verifier = verifier_of(base_url, is_revoked=revoked.is_revoked)
    user = await sign_up(client)
    pair = await log_in(client, user["email"])
    await verifier.verify(pair["access_token"])
    response = await client.request(
        "DELETE", "/api/identity/sessions/current", json={"refresh_token": pair["refresh_token"]}
    )
    assert response.status_code == 204
    with pytest.raises(Unauthorized, match="revoked"):
        await verifier.verify(pair["access_token"])


async def test_the_shared_verifier_refuses_a_logged_out_token_within_five_seconds(
    client: httpx.AsyncClient, base_url: str
) -> None:
    settings = ServiceSettings(
        jwks_url=f"{base_url}/api/identity/.well-known/jwks.json",
        revoked_tokens_url=f"{base_url}/internal/identity/revoked-tokens",
    )
    verifier = settings.jwt_verifier()
    user = await sign_up(client)
    pair = await log_in(client, user["email"])
    await verifier.verify(pair["access_token"])  # the revocation list is now cached, without this token
    await client.request("DELETE", "/api/identity/sessions/current", json={"refresh_token": pair["refresh_token"]})
    logged_out = time.monotonic()

    async def accepted() -> bool:
        try:
            await verifier.verify(pair["access_token"])
        except Unauthorized:
            return False
        return True

    while await accepted():
        assert time.monotonic() - logged_out < 20.0, "still accepted long after the list's maximum age (5 s)"
        await asyncio.sleep(0.2)
    with pytest.raises(Unauthorized, match="revoked"):
        await verifier.verify(pair["access_token"])


async def test_identity_refuses_exactly_the_tokens_on_its_revocation_list(client: httpx.AsyncClient) -> None:
    user = await sign_up(client)
    ended = await log_in(client, user["email"])
    live = await log_in(client, user["email"])
    await client.request("DELETE", "/api/identity/sessions/current", json={"refresh_token": ended["refresh_token"]})
    listed = {entry["jti"] for entry in (await client.get("/internal/identity/revoked-tokens")).json()["revoked"]}

    def jti(pair: dict[str, str]) -> str:
        return str(jwt.decode(pair["access_token"], options={"verify_signature": False})["jti"])

    assert jti(ended) in listed
    assert jti(live) not in listed
    assert (await client.get("/api/identity/me", headers=bearer(ended["access_token"]))).status_code == 401
    assert (await client.get("/api/identity/me", headers=bearer(live["access_token"]))).status_code == 200


async def test_unknown_refresh_tokens_and_logouts_answer_without_leaking(client: httpx.AsyncClient) -> None:
    assert (await refresh(client, "not-a-token")).status_code == 401
    logout = await client.request("DELETE", "/api/identity/sessions/current", json={"refresh_token": "nope"})
    assert logout.status_code == 204


async def test_an_expired_access_token_is_refused(database: str, settings: Settings) -> None:
    # 3 s: the first check must land inside the lifetime on a loaded machine too (with 1 s it once came too late).
    short = settings_for(database, access_token_seconds=3, mail_topic=settings.mail_topic)
    async with running_server(short) as url, httpx.AsyncClient(base_url=url) as http:
        user = await sign_up(http)
        pair = await log_in(http, user["email"])
        verifier = verifier_of(url, leeway=0)
        await verifier.verify(pair["access_token"])
        await asyncio.sleep(3.1)
        with pytest.raises(Unauthorized, match="expired"):
            await verifier.verify(pair["access_token"])
        me = await http.get("/api/identity/me", headers=bearer(pair["access_token"]))
        assert me.status_code in (200, 401)  # identity allows the platform's 10 s clock leeway
        assert (await refresh(http, pair["refresh_token"])).status_code == 200
