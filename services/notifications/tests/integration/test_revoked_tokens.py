"""A token whose session ended is refused: the verifier of settings.jwt_verifier() reads identity's revocation list."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from casefold_testing.identity import FakeIdentity
from notifications.config import Settings
from notifications.main import create_app

pytestmark = pytest.mark.integration


@pytest.fixture
def identity() -> Iterator[FakeIdentity]:
    with FakeIdentity() as identity:
        yield identity


async def test_a_token_identity_lists_as_revoked_is_refused(migrated: str, identity: FakeIdentity) -> None:
    settings = Settings(environment="test", database_url=migrated, run_migrations=False, run_workers=False,
                        jwks_url=identity.jwks_url, revoked_tokens_url=identity.revoked_tokens_url)  # fmt: skip
    user_id = uuid.uuid4()
    revoked = identity.tokens.mint(user_id=user_id, jti="logged-out")
    valid = identity.tokens.mint(user_id=user_id, jti="still-signed-in")
    identity.revoke("logged-out")
    app = create_app(settings)
    path = f"/api/notifications/cases/{uuid.uuid4()}/activity"

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://notifications.test") as http:
            refused = await http.get(path, headers={"Authorization": f"Bearer {revoked}"})
            accepted = await http.get(path, headers={"Authorization": f"Bearer {valid}"})

    assert refused.status_code == 401
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert accepted.status_code == 404  # authenticated; an unknown case is not theirs
