"""A token whose session ended is refused: the verifier of settings.jwt_verifier() reads identity's revocation list."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from notifications_harness import free_port

from casefold_testing.tokens import TestTokenIssuer
from notifications.config import Settings
from notifications.main import create_app

pytestmark = pytest.mark.integration


class FakeIdentity:
    """Identity's JWKS and GET /internal/identity/revoked-tokens, on a free local port (our own contract)."""

    def __init__(self) -> None:
        self.tokens = TestTokenIssuer()
        self.revoked: list[str] = []
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        identity = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                bodies: dict[str, Any] = {
                    "/api/identity/.well-known/jwks.json": identity.tokens.jwks(),
                    "/internal/identity/revoked-tokens": {
                        "revoked": [{"jti": j, "expires_at": "2030-01-01T00:00:00Z"} for j in identity.revoked]
                    },
                }
                body = json.dumps(bodies[self.path]).encode() if self.path in bodies else b"{}"
                self.send_response(200 if self.path in bodies else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)

    def __enter__(self) -> FakeIdentity:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def identity() -> Iterator[FakeIdentity]:
    with FakeIdentity() as identity:
        yield identity


async def test_a_token_identity_lists_as_revoked_is_refused(migrated: str, identity: FakeIdentity) -> None:
    settings = Settings(environment="test", database_url=migrated, run_migrations=False, run_workers=False,
                        jwks_url=f"{identity.url}/api/identity/.well-known/jwks.json",
                        revoked_tokens_url=f"{identity.url}/internal/identity/revoked-tokens")  # fmt: skip
    user_id = uuid.uuid4()
    revoked = identity.tokens.mint(user_id=user_id, jti="logged-out")
    valid = identity.tokens.mint(user_id=user_id, jti="still-signed-in")
    identity.revoked = ["logged-out"]
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
