"""The revocation list: refuses listed tokens, caches between polls, keeps the last list when identity is down."""

from __future__ import annotations

import httpx
import pytest

from casefold_platform.revocation import RevocationList

URL = "http://identity.test/internal/identity/revoked-tokens"


class Identity:
    """Our own identity endpoint, served in-process by httpx's mock transport."""

    def __init__(self) -> None:
        self.revoked: list[str] = []
        self.calls = 0
        self.down = False

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if self.down:
            return httpx.Response(503)
        return httpx.Response(
            200, json={"revoked": [{"jti": j, "expires_at": "2030-01-01T00:00:00Z"} for j in self.revoked]}
        )


@pytest.fixture
def identity() -> Identity:
    return Identity()


def _revocations(identity: Identity, now: list[float]) -> RevocationList:
    client = httpx.AsyncClient(transport=httpx.MockTransport(identity.handle))
    return RevocationList(URL, max_age=5, http_client=client, clock=lambda: now[0])


async def test_a_listed_token_is_revoked_and_others_are_not(identity: Identity) -> None:
    identity.revoked = ["jti-1"]
    revocations = _revocations(identity, [0.0])

    assert await revocations.is_revoked("jti-1")
    assert not await revocations.is_revoked("jti-2")
    assert identity.calls == 1  # cached within max_age


async def test_the_list_is_fetched_again_after_max_age(identity: Identity) -> None:
    now = [0.0]
    revocations = _revocations(identity, now)
    assert not await revocations.is_revoked("jti-1")

    identity.revoked = ["jti-1"]
    now[0] = 4.0
    assert not await revocations.is_revoked("jti-1")
    now[0] = 5.5
    assert await revocations.is_revoked("jti-1")
    assert identity.calls == 2


async def test_the_last_list_stays_in_force_while_identity_is_down(identity: Identity) -> None:
    now = [0.0]
    identity.revoked = ["jti-1"]
    revocations = _revocations(identity, now)
    assert await revocations.is_revoked("jti-1")

    identity.down = True
    now[0] = 10.0
    assert await revocations.is_revoked("jti-1")
    assert not await revocations.is_revoked("jti-2")
