"""The portal on the gateway's origin: every path outside /api/ is the app, /api/ stays the API (real Envoy)."""

from __future__ import annotations

import socket

import httpx
import pytest
from gateway.gateway_stubs import FIXTURE_INDEX, FIXTURE_SCRIPT, RunningGateway

from casefold_local.gateway_config import Upstream
from casefold_local.portal import CONTENT_SECURITY_POLICY

pytestmark = pytest.mark.integration


def _get(url: str, path: str, **kwargs: object) -> httpx.Response:
    return httpx.get(url + path, timeout=10, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "path",
    ["/", "/login", "/confirm-email?token=abc.def", "/reset-password?token=x",
     "/cases/6f1c7a52-8a3e-4c55-9a8e-4f0a8f0f4a11", "/cases?status=open&q=disk", "/cases/by-number/1042"],
)  # fmt: skip
def test_links_from_emails_and_deep_links_serve_the_app(gateway: RunningGateway, path: str) -> None:
    response = _get(gateway.url, path)

    assert response.status_code == 200
    assert response.text == FIXTURE_INDEX
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["x-request-id"]  # the gateway labels portal requests too


def test_hashed_assets_pass_the_gateway_with_their_long_cache(gateway: RunningGateway) -> None:
    response = _get(gateway.url, "/assets/index-Ab12Cd34.js")

    assert response.text == FIXTURE_SCRIPT
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["content-type"].startswith("text/javascript")


def test_an_unknown_api_path_is_still_the_gateways_problem_404(gateway: RunningGateway) -> None:
    response = _get(gateway.url, "/api/nothing-here", headers=gateway.issuer.auth_header())

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["error_id"] == response.headers["x-request-id"]


def test_api_routes_stay_more_specific_than_the_portal(gateway: RunningGateway) -> None:
    response = _get(gateway.url, "/api/cases?status=open", headers=gateway.issuer.auth_header())

    assert response.json()["service"] == "cases"


def test_the_portal_needs_no_token(gateway: RunningGateway) -> None:
    assert _get(gateway.url, "/cases").status_code == 200
    assert _get(gateway.url, "/api/cases").status_code == 401


def _raw_get(port: int, target: str) -> bytes:
    """A request line sent as written: clients (httpx, browsers) would tidy the dots away first."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize("target", ["/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt",
                                    "/assets/%2e%2e/%2e%2e/secret.txt", "/..%2fsecret.txt"])  # fmt: skip
def test_path_traversal_never_reads_outside_the_portal(gateway: RunningGateway, portal: Upstream, target: str) -> None:
    direct = _raw_get(portal.port, target)
    through_gateway = _raw_get(gateway.settings.port, target)

    for answer in (direct, through_gateway):
        assert b"outside the portal" not in answer
        assert answer.split(b"\r\n", 1)[0].split(b" ")[1] in (b"200", b"400", b"404")


def test_writes_to_the_portal_are_refused(gateway: RunningGateway) -> None:
    response = httpx.post(gateway.url + "/login", data={"email": "a"}, timeout=10)

    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"
