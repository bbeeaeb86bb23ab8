"""A stand-in for the two identity endpoints every other service reads: its JWKS and its revoked-token list.

Our own contract on a free local port, for services' tests that build their app as in production (the verifier
from settings.jwt_verifier()):

    with FakeIdentity() as identity:
        settings = Settings(jwks_url=identity.jwks_url, revoked_tokens_url=identity.revoked_tokens_url, ...)
        token = identity.tokens.mint(jti="logged-out")
        identity.revoke("logged-out")
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from casefold_testing.tokens import TestTokenIssuer

JWKS_PATH = "/api/identity/.well-known/jwks.json"
REVOKED_PATH = "/internal/identity/revoked-tokens"


class FakeIdentity:
    """Serves GET JWKS_PATH and GET REVOKED_PATH shaped like identity's answers; anything else is 404."""

    def __init__(self, tokens: TestTokenIssuer | None = None) -> None:
        self.tokens = tokens or TestTokenIssuer()
        self._revoked: frozenset[str] = frozenset()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                documents: dict[str, Any] = {
                    JWKS_PATH: fake.tokens.jwks(),
                    REVOKED_PATH: {
                        "revoked": [
                            {"jti": j, "expires_at": "2100-01-01T00:00:00+00:00"} for j in sorted(fake._revoked)
                        ],
                        "generated_at": "2026-01-01T00:00:00+00:00",
                    },
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

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.jwks_url = self.url + JWKS_PATH
        self.revoked_tokens_url = self.url + REVOKED_PATH
        self._thread: threading.Thread | None = None

    def revoke(self, jti: str) -> None:
        self._revoked = self._revoked | {jti}  # replaced, not mutated: the server thread may be reading it

    def __enter__(self) -> FakeIdentity:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)
