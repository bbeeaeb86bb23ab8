"""Signing-key rotation: the old and the new key are published together until the old one is retired."""

from __future__ import annotations

import httpx
import jwt
import pytest
from identity_builders import log_in, run_command, sign_up

from casefold_platform.auth import JwksVerifier
from casefold_platform.problems import Unauthorized
from identity.config import Settings

pytestmark = pytest.mark.integration


def kid(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


async def published(client: httpx.AsyncClient) -> list[str]:
    response = await client.get("/api/identity/.well-known/jwks.json")
    assert response.status_code == 200
    assert "max-age" in response.headers["cache-control"]
    keys = response.json()["keys"]
    assert all(k["kty"] == "EC" and k["crv"] == "P-256" and k["alg"] == "ES256" and "d" not in k for k in keys)
    return [k["kid"] for k in keys]


async def test_rotation_keeps_old_tokens_valid_until_the_old_key_is_retired(
    client: httpx.AsyncClient, base_url: str, settings: Settings
) -> None:
    jwks_url = f"{base_url}/api/identity/.well-known/jwks.json"
    verifier = JwksVerifier(jwks_url, min_refetch_interval=0)
    user = await sign_up(client)
    before = await log_in(client, user["email"])
    await verifier.verify(before["access_token"])
    [old_kid] = await published(client)

    code, output = await run_command(settings, "rotate-signing-key")
    assert code == 0, output
    during = await published(client)
    assert len(during) == 2
    assert old_kid in during
    after = await log_in(client, user["email"])
    assert kid(after["access_token"]) != old_kid
    await verifier.verify(before["access_token"])
    await verifier.verify(after["access_token"])  # an unknown kid makes the verifier refetch

    code, output = await run_command(settings, "retire-signing-keys", "--older-than", "1m")
    assert code == 2, "a key younger than the access-token lifetime may not be retired"
    code, output = await run_command(
        settings, "retire-signing-keys", "--older-than", "1s", IDENTITY_ACCESS_TOKEN_SECONDS="1"
    )
    assert code == 0, output
    assert await published(client) == [kid(after["access_token"])]
    fresh = JwksVerifier(jwks_url)
    await fresh.verify(after["access_token"])
    with pytest.raises(Unauthorized, match="unknown key"):
        await fresh.verify(before["access_token"])
