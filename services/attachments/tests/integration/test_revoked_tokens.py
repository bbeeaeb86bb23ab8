"""Access tokens of ended sessions: the app, wired from its settings alone, refuses a jti identity lists as revoked."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from attachments_harness import free_port, service_settings

from attachments.main import create_app
from casefold_testing.tokens import TestTokenIssuer

pytestmark = pytest.mark.integration

JWKS_PATH = "/api/identity/.well-known/jwks.json"
REVOKED_PATH = "/internal/identity/revoked-tokens"


@pytest.fixture
def identity(issuer: TestTokenIssuer) -> Iterator[tuple[str, set[str]]]:
    """Identity's two internal endpoints on a free local port: its JWKS and the revoked jtis (mutable)."""
    revoked: set[str] = set()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            documents: dict[str, Any] = {
                JWKS_PATH: issuer.jwks(),
                REVOKED_PATH: {"revoked": [{"jti": jti} for jti in sorted(revoked)]},
            }
            if self.path not in documents:
                self.send_error(404)
                return
            body = json.dumps(documents[self.path]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", revoked
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


async def test_token_whose_jti_identity_revoked_is_refused(
    database: str, tmp_path: Path, issuer: TestTokenIssuer, identity: tuple[str, set[str]]
) -> None:
    base_url, revoked = identity
    settings = service_settings(
        database, tmp_path / "blobs", jwks_url=base_url + JWKS_PATH, revoked_tokens_url=base_url + REVOKED_PATH
    )
    user = uuid.uuid4()
    live, logged_out = uuid.uuid4().hex, uuid.uuid4().hex
    revoked.add(logged_out)
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
