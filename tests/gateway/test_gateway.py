"""The local gateway (real Envoy, generated config) routes, authenticates, limits and labels requests."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from gateway.gateway_stubs import RunningGateway, start_gateway

from casefold_local.gateway import Gateway
from casefold_local.gateway_config import PUBLIC_ROUTES, Upstream
from casefold_testing.tokens import TestTokenIssuer

pytestmark = pytest.mark.integration


def _get(gw: RunningGateway, path: str, method: str = "GET", **kwargs: object) -> httpx.Response:
    kwargs.setdefault("timeout", 10)
    return httpx.request(method, gw.url + path, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("path", "service"),
    [
        ("/api/identity/me", "identity"),
        ("/api/cases", "cases"),
        ("/api/cases/123/comments?x=1", "cases"),
        ("/api/attachments/abc/meta", "attachments"),
        ("/api/notifications/cases/1/activity", "notifications"),
    ],
)
def test_each_prefix_reaches_its_service_with_the_full_path(gateway: RunningGateway, path: str, service: str) -> None:
    response = _get(gateway, path, headers=gateway.issuer.auth_header())

    assert response.status_code == 200
    assert response.json()["service"] == service
    assert response.json()["path"] == path


@pytest.mark.parametrize("path", ["/internal/identity/revoked-tokens", "/healthz", "/metrics"])
def test_internal_and_operational_paths_are_not_exposed(gateway: RunningGateway, path: str) -> None:
    response = _get(gateway, path, headers=gateway.issuer.auth_header())

    # Outside /api/ is the portal's: its page, never a service's answer.
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "service" not in response.text


def test_unknown_path_is_a_problem_404(gateway: RunningGateway) -> None:
    response = _get(gateway, "/api/nothing-here", headers=gateway.issuer.auth_header())

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_protected_route_without_token_is_401_problem_with_error_id(gateway: RunningGateway) -> None:
    response = _get(gateway, "/api/cases")

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 401
    assert problem["title"] == "Unauthorized"
    assert problem["error_id"] == response.headers["x-request-id"]


@pytest.mark.parametrize(
    "token",
    [
        TestTokenIssuer().mint(),  # signed by a key identity never published
        "not-a-jwt",
    ],
)
def test_protected_route_with_a_bad_token_is_401(gateway: RunningGateway, token: str) -> None:
    response = _get(gateway, "/api/cases", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401


@pytest.mark.parametrize(
    "claims",
    [{"expires_in": -120}, {"aud": "someone-else"}, {"iss": "somebody-else"}],
    ids=["expired", "wrong-audience", "wrong-issuer"],
)
def test_tokens_with_wrong_claims_are_401(gateway: RunningGateway, claims: dict[str, object]) -> None:
    token = gateway.issuer.mint(**claims)  # type: ignore[arg-type]

    assert _get(gateway, "/api/cases", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_valid_token_is_forwarded_to_the_service(gateway: RunningGateway) -> None:
    token = gateway.issuer.mint(role="agent")

    response = _get(gateway, "/api/cases", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
    assert response.json()["headers"]["authorization"] == f"Bearer {token}"


@pytest.mark.parametrize(("path", "method"), [r for r in PUBLIC_ROUTES if r[0].startswith("/api/identity")])
def test_public_identity_routes_need_no_token(gateway: RunningGateway, path: str, method: str) -> None:
    response = _get(gateway, path, method=method, json={} if method != "GET" else None)

    assert response.status_code == 200, response.text
    assert response.json().get("service", "identity") == "identity"


@pytest.mark.parametrize(
    ("path", "method"),
    [("/api/identity/me", "GET"), ("/api/identity/users/1/roles", "POST"), ("/api/identity/users", "GET")],
)
def test_other_identity_routes_need_a_token(gateway: RunningGateway, path: str, method: str) -> None:
    assert _get(gateway, path, method=method).status_code == 401


def test_combined_openapi_document_is_public_json(gateway: RunningGateway) -> None:
    response = _get(gateway, "/api/openapi.json")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert "/api/cases" in response.json()["paths"]


def test_cors_preflight_is_answered_for_an_allowed_origin(gateway: RunningGateway) -> None:
    response = _get(
        gateway,
        "/api/cases",
        method="OPTIONS",
        headers={
            "Origin": "http://localhost:5173",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
        },
    )

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "http://localhost:5173"
    allowed = response.headers["access-control-allow-headers"].lower()
    assert {"authorization", "content-type", "idempotency-key"} <= {h.strip() for h in allowed.split(",")}


def test_cors_refuses_an_unknown_origin(gateway: RunningGateway) -> None:
    response = _get(
        gateway,
        "/api/cases",
        method="OPTIONS",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )

    assert "access-control-allow-origin" not in response.headers


def test_cors_response_exposes_the_request_id(gateway: RunningGateway) -> None:
    response = _get(gateway, "/api/cases", headers={"Origin": "http://127.0.0.1:5173", **gateway.issuer.auth_header()})

    assert response.headers["access-control-allow-origin"] == "http://127.0.0.1:5173"
    assert "x-request-id" in response.headers["access-control-expose-headers"].lower()


def test_request_id_is_generated_passed_on_and_returned(gateway: RunningGateway) -> None:
    response = _get(gateway, "/api/cases", headers=gateway.issuer.auth_header())

    request_id = response.headers["x-request-id"]
    assert uuid.UUID(request_id)
    assert response.json()["headers"]["x-request-id"] == request_id


def test_a_given_request_id_is_kept(gateway: RunningGateway) -> None:
    given = str(uuid.uuid4())

    response = _get(gateway, "/api/cases", headers={"X-Request-ID": given, **gateway.issuer.auth_header()})

    assert response.headers["x-request-id"] == given
    assert response.json()["headers"]["x-request-id"] == given


def _raw_post_status(gw: RunningGateway, path: str, content_length: int, token: str) -> tuple[int, bytes]:
    """Headers announcing a huge body, then no body: the gateway must answer before reading it."""
    port = gw.settings.port
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {content_length}\r\n\r\n".encode()
        )
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    status_line = data.split(b"\r\n", 1)[0]
    return int(status_line.split()[1]), data


def test_upload_above_the_attachments_limit_is_413(gateway: RunningGateway) -> None:
    limit = gateway.settings.max_upload_bytes

    status, head = _raw_post_status(gateway, "/api/attachments", limit + 1, gateway.issuer.mint())

    assert status == 413
    assert b"application/problem+json" in head


def test_json_body_above_one_mib_is_413(gateway: RunningGateway) -> None:
    status, _ = _raw_post_status(gateway, "/api/cases", gateway.settings.max_json_bytes + 1, gateway.issuer.mint())

    assert status == 413


def test_an_upload_bigger_than_the_json_limit_passes(gateway: RunningGateway) -> None:
    body = b"x" * (2 * 1024 * 1024)

    response = _get(
        gateway, "/api/attachments", method="POST", content=body, headers=gateway.issuer.auth_header(), timeout=30
    )

    assert response.status_code == 200
    assert response.json()["body_bytes"] == len(body)


def test_login_is_rate_limited_after_its_bucket_empties(gateway: RunningGateway) -> None:
    statuses = [_get(gateway, "/api/identity/sessions", method="POST", json={}).status_code for _ in range(6)]

    assert statuses[0] == 200
    assert statuses[-1] == 429
    assert _get(gateway, "/api/identity/me", headers=gateway.issuer.auth_header()).status_code == 200


def _client(gateway: Gateway, address: str) -> httpx.Client:
    """A client whose requests come from `address` (any 127.0.0.0/8 address is this machine)."""
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(base_url=gateway.settings.url, timeout=10, transport=transport)


@pytest.fixture
def tight_gateway(tmp_path: Path, upstreams: tuple[Upstream, ...]) -> Iterator[Gateway]:
    """Small buckets that do not refill during a test: 5 requests per address, 3 per user, 2 logins per address."""
    gateway = start_gateway(tmp_path, upstreams, client_requests=5, user_requests=3, rate_window_seconds=600,
                            login_burst=2, login_fill_seconds=600)  # fmt: skip
    try:
        yield gateway
    finally:
        gateway.stop()


def test_a_client_emptying_its_bucket_leaves_other_clients_unaffected(
    tight_gateway: Gateway, issuer: TestTokenIssuer
) -> None:
    with _client(tight_gateway, "127.0.0.1") as a, _client(tight_gateway, "127.0.0.2") as b:
        statuses = [a.get("/api/identity/display-names/availability").status_code for _ in range(7)]
        limited = a.get("/api/identity/display-names/availability")
        other = b.get("/api/identity/display-names/availability")

    assert statuses[:5] == [200] * 5
    assert statuses[5:] == [429, 429]
    assert limited.headers["content-type"] == "application/problem+json"
    assert limited.json()["status"] == 429
    assert limited.headers["retry-after"] == "600"
    assert other.status_code == 200


def test_a_forged_x_forwarded_for_does_not_get_a_fresh_bucket(tight_gateway: Gateway) -> None:
    with _client(tight_gateway, "127.0.0.3") as client:
        for _ in range(5):
            client.get("/api/identity/display-names/availability")
        forged = [
            client.get("/api/identity/display-names/availability", headers={"X-Forwarded-For": f"203.0.113.{i}"})
            for i in range(3)
        ]
        passed = client.get("/api/identity/me", headers={"X-Forwarded-For": "203.0.113.9"})

    assert [r.status_code for r in forged] == [429, 429, 429]
    assert passed.status_code == 429


def test_each_user_has_a_bucket_of_their_own_behind_one_address(
    tight_gateway: Gateway, issuer: TestTokenIssuer
) -> None:
    first, second = issuer.auth_header(user_id=uuid.uuid4()), issuer.auth_header(user_id=uuid.uuid4())
    with _client(tight_gateway, "127.0.0.4") as shared:
        statuses = [shared.get("/api/cases", headers=first).status_code for _ in range(4)]
        other_user = shared.get("/api/cases", headers=second)

    assert statuses == [200, 200, 200, 429]
    assert other_user.status_code == 200


def test_logins_are_limited_per_address(tight_gateway: Gateway) -> None:
    with _client(tight_gateway, "127.0.0.5") as a, _client(tight_gateway, "127.0.0.6") as b:
        statuses = [a.post("/api/identity/sessions", json={}).status_code for _ in range(3)]
        elsewhere = b.post("/api/identity/sessions", json={})

    assert statuses == [200, 200, 429]
    assert elsewhere.status_code == 200


def test_the_jwt_issuer_and_audience_are_those_identity_issues() -> None:
    from casefold_local import gateway_config
    from casefold_platform import auth

    assert (gateway_config.ISSUER, gateway_config.AUDIENCE) == (auth.ISSUER, auth.AUDIENCE)


def test_the_gateway_upload_limit_matches_the_attachments_service() -> None:
    from attachments.config import Settings as AttachmentsSettings
    from casefold_local.gateway_config import GatewaySettings

    gateway_default = GatewaySettings.__dataclass_fields__["max_upload_bytes"].default
    assert gateway_default == AttachmentsSettings().max_request_bytes
