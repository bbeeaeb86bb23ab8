"""JwksVerifier against a real HTTP server publishing the key set, as identity does."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from casefold_platform.auth import JwksVerifier
from casefold_platform.problems import ServiceUnavailable, Unauthorized
from casefold_testing.tokens import TestTokenIssuer

pytestmark = pytest.mark.integration


class JwksEndpoint:
    """A real HTTP server on a free port serving /.well-known/jwks.json from a mutable key set."""

    def __init__(self, jwks: dict[str, Any]) -> None:
        self.jwks = jwks
        self.fetches = 0
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path != "/.well-known/jwks.json":
                    self.send_error(404)
                    return
                endpoint.fetches += 1
                body = json.dumps(endpoint.jwks).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/.well-known/jwks.json"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def issuer() -> TestTokenIssuer:
    return TestTokenIssuer()


@pytest.fixture
def endpoint(issuer: TestTokenIssuer) -> Iterator[JwksEndpoint]:
    endpoint = JwksEndpoint(issuer.jwks())
    yield endpoint
    endpoint.close()


async def test_verifies_with_keys_fetched_over_http(issuer: TestTokenIssuer, endpoint: JwksEndpoint) -> None:
    verifier = JwksVerifier(endpoint.url)

    principal = await verifier.verify(issuer.mint(role="agent"))
    await verifier.verify(issuer.mint())

    assert principal.is_agent
    assert endpoint.fetches == 1


async def test_picks_up_a_rotated_key_on_first_sight(issuer: TestTokenIssuer, endpoint: JwksEndpoint) -> None:
    verifier = JwksVerifier(endpoint.url, min_refetch_interval=0)
    await verifier.verify(issuer.mint())
    rotated = TestTokenIssuer()
    endpoint.jwks = {"keys": issuer.jwks()["keys"] + rotated.jwks()["keys"]}

    principal = await verifier.verify(rotated.mint(role="admin"))

    assert principal.is_admin
    assert endpoint.fetches == 2


async def test_refresh_fails_fast_and_verify_is_unavailable_when_nothing_answers(issuer: TestTokenIssuer) -> None:
    dead = JwksEndpoint({"keys": []})
    url = dead.url
    dead.close()
    verifier = JwksVerifier(url, timeout=2)

    with pytest.raises(Exception, match="onnect"):
        await verifier.refresh()
    with pytest.raises(ServiceUnavailable):
        await JwksVerifier(url, timeout=2).verify(issuer.mint())


async def test_a_key_missing_from_the_published_set_is_unauthorized(
    issuer: TestTokenIssuer, endpoint: JwksEndpoint
) -> None:
    with pytest.raises(Unauthorized, match="unknown key"):
        await JwksVerifier(endpoint.url).verify(TestTokenIssuer().mint())
