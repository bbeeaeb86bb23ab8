"""Ended sessions: the cases API refuses an access token whose jti identity lists as revoked, within seconds.

The app here is built as in production (its verifier from settings.jwt_verifier()); identity's two endpoints that
cases reads, the JWKS and the revoked-token list, are served by a small stub of our own contract on a free port.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from casefold_testing.tokens import TestTokenIssuer
from cases.config import Settings
from cases.main import create_app

pytestmark = pytest.mark.integration

JWKS_PATH = "/api/identity/.well-known/jwks.json"
REVOKED_PATH = "/internal/identity/revoked-tokens"
# The revocation list is polled at most every 5 s; a token revoked meanwhile is refused at the next poll. The bound
# is generous on purpose (shared, noisy machines): the property is "refused after the next poll", not a speed.
REFUSED_WITHIN = 20.0


class StubIdentity:
    """GET JWKS_PATH and GET REVOKED_PATH, shaped like identity's answers."""

    def __init__(self, jwks: dict[str, Any]) -> None:
        self.jwks = jwks
        self.revoked: frozenset[str] = frozenset()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == JWKS_PATH:
                    body: dict[str, Any] = stub.jwks
                elif self.path == REVOKED_PATH:
                    entries = [{"jti": jti, "expires_at": "2100-01-01T00:00:00+00:00"} for jti in sorted(stub.revoked)]
                    body = {"revoked": entries, "generated_at": "2026-01-01T00:00:00+00:00"}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def revoke(self, jti: str) -> None:
        self.revoked = self.revoked | {jti}  # replaced, not mutated: the server thread may be reading it

    def __enter__(self) -> StubIdentity:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="module")
def identity(issuer: TestTokenIssuer) -> Iterator[StubIdentity]:
    with StubIdentity(issuer.jwks()) as stub:
        yield stub


@pytest.fixture(scope="module")
def settings(database: str, identity: StubIdentity) -> Settings:
    return Settings(
        environment="test",
        database_url=database,
        run_workers=False,
        jwks_url=identity.base_url + JWKS_PATH,
        revoked_tokens_url=identity.base_url + REVOKED_PATH,
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
    client: httpx.AsyncClient, issuer: TestTokenIssuer, identity: StubIdentity
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
    client: httpx.AsyncClient, issuer: TestTokenIssuer, identity: StubIdentity
) -> None:
    jti = uuid.uuid4().hex
    token = issuer.mint(jti=jti)
    assert (await client.get("/api/cases", headers=bearer(token))).status_code == 200

    identity.revoke(jti)
    response, seconds = await refused_after(client, token)

    assert response.status_code == 401, response.text
    assert seconds < REFUSED_WITHIN
