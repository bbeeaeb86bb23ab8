"""Ended sessions: the cases API refuses an access token whose jti identity lists as revoked, within seconds.

The app here is built as in production (its verifier from settings.jwt_verifier()); identity's two endpoints that
cases reads, the JWKS and the revoked-token list, are served by casefold_testing's FakeIdentity (our own contract).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from casefold_testing.identity import FakeIdentity
from casefold_testing.tokens import TestTokenIssuer
from cases.config import Settings
from cases.main import create_app

pytestmark = pytest.mark.integration

# The revocation list is polled at most every 5 s; a token revoked meanwhile is refused at the next poll. The bound
# is generous on purpose (shared, noisy machines): the property is "refused after the next poll", not a speed.
REFUSED_WITHIN = 20.0


@pytest.fixture(scope="module")
def identity(issuer: TestTokenIssuer) -> Iterator[FakeIdentity]:
    with FakeIdentity(issuer) as fake:
        yield fake


@pytest.fixture(scope="module")
def settings(database: str, identity: FakeIdentity) -> Settings:
    return Settings(
        environment="test",
        database_url=database,
        run_workers=False,
        jwks_url=identity.jwks_url,
        revoked_tokens_url=identity.revoked_tokens_url,
    )


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)  # the verifier stays the one the settings built
    async with application.router.lifespan_context(application):
        yield application


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def refused_after(client: httpx.AsyncClient, token: str) -> tuple[httpx.Response, float]:
    """The first 401 for this token (polling, up to REFUSED_WITHIN seconds) and the seconds it took."""
    began = time.monotonic()
    while True:
        response = await client.get("/api/cases", headers=bearer(token))
        if response.status_code != 200 or time.monotonic() - began > REFUSED_WITHIN:
            return response, time.monotonic() - began
        await asyncio.sleep(0.25)


async def test_a_token_identity_lists_as_revoked_is_refused_with_401(
    client: httpx.AsyncClient, issuer: TestTokenIssuer, identity: FakeIdentity
) -> None:
    user_id, jti = uuid.uuid4(), uuid.uuid4().hex
    token = issuer.mint(user_id=user_id, jti=jti)
    identity.revoke(jti)

    response, _ = await refused_after(client, token)

    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "The access token has been revoked."
    another = await client.get("/api/cases", headers=bearer(issuer.mint(user_id=user_id)))
    assert another.status_code == 200, another.text


async def test_a_token_in_use_is_refused_within_seconds_of_its_revocation(
    client: httpx.AsyncClient, issuer: TestTokenIssuer, identity: FakeIdentity
) -> None:
    jti = uuid.uuid4().hex
    token = issuer.mint(jti=jti)
    assert (await client.get("/api/cases", headers=bearer(token))).status_code == 200

    identity.revoke(jti)
    response, seconds = await refused_after(client, token)

    assert response.status_code == 401, response.text
    assert seconds < REFUSED_WITHIN
