"""Access tokens of ended sessions: the app, wired from its settings alone, refuses a jti identity lists as revoked."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from attachments_harness import service_settings

from attachments.main import create_app
from casefold_testing.identity import FakeIdentity
from casefold_testing.tokens import TestTokenIssuer

pytestmark = pytest.mark.integration


@pytest.fixture
def identity(issuer: TestTokenIssuer) -> Iterator[FakeIdentity]:
    with FakeIdentity(issuer) as fake:
        yield fake


async def test_token_whose_jti_identity_revoked_is_refused(
    database: str, tmp_path: Path, issuer: TestTokenIssuer, identity: FakeIdentity
) -> None:
    settings = service_settings(
        database, tmp_path / "blobs", jwks_url=identity.jwks_url, revoked_tokens_url=identity.revoked_tokens_url
    )
    user = uuid.uuid4()
    live, logged_out = uuid.uuid4().hex, uuid.uuid4().hex
    identity.revoke(logged_out)
    app = create_app(settings)  # the verifier comes from the settings: identity's JWKS and revocation list
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://attachments.test") as client:
            path = f"/api/attachments/{uuid.uuid4()}/meta"

            accepted = await client.get(path, headers=issuer.auth_header(user_id=user, jti=live))
            refused = await client.get(path, headers=issuer.auth_header(user_id=user, jti=logged_out))

    assert accepted.status_code == 404, accepted.text
    assert refused.status_code == 401, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "revoked" in refused.json()["detail"]
