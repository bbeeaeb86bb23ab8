"""Access-token verification: only identity's ES256 tokens for this audience, unexpired, with known keys."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from fastapi import FastAPI
from fastapi.testclient import TestClient

from casefold_platform.auth import JwksVerifier, Principal
from casefold_platform.problems import ServiceUnavailable, Unauthorized
from casefold_testing.tokens import TestTokenIssuer

JWKS_URL = "https://identity.test/.well-known/jwks.json"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class JwksServer:
    """Serves whatever key set it holds, counting fetches (an httpx transport, no sockets)."""

    def __init__(self, jwks: dict[str, Any]) -> None:
        self.jwks = jwks
        self.fetches = 0
        self.failing = False

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.fetches += 1
        if self.failing:
            return httpx.Response(503)
        return httpx.Response(200, json=self.jwks)

    def verifier(self, clock: FakeClock, **kwargs: Any) -> JwksVerifier:
        client = httpx.AsyncClient(transport=httpx.MockTransport(self.handle))
        return JwksVerifier(JWKS_URL, http_client=client, clock=clock, **kwargs)


async def test_a_valid_token_yields_its_principal(issuer: TestTokenIssuer) -> None:
    user_id = uuid.uuid4()
    token = issuer.mint(user_id, role="agent", display_name="Ada", email_verified=False, jti="t-1")

    principal = await JwksVerifier.from_jwks(issuer.jwks()).verify(token)

    assert principal == Principal(user_id, "agent", "Ada", False, "t-1")
    assert principal.is_agent
    assert not principal.is_admin


def test_roles_decide_agent_and_admin() -> None:
    def principal(role: Any) -> Principal:
        return Principal(uuid.uuid4(), role, "x", True, "j")

    assert [principal(r).is_agent for r in ("customer", "agent", "admin")] == [False, True, True]
    assert [principal(r).is_admin for r in ("customer", "agent", "admin")] == [False, False, True]


async def test_an_expired_token_is_refused(issuer: TestTokenIssuer) -> None:
    token = issuer.mint(expires_in=-60)

    with pytest.raises(Unauthorized, match="expired"):
        await JwksVerifier.from_jwks(issuer.jwks()).verify(token)


@pytest.mark.parametrize(
    "claims",
    [{"aud": "someone-else"}, {"iss": "evil-identity"}, {"exp": None}, {"jti": None}, {"role": "root"}],
    ids=["audience", "issuer", "no-exp", "no-jti", "unknown-role"],
)
async def test_a_token_with_wrong_claims_is_refused(issuer: TestTokenIssuer, claims: dict[str, Any]) -> None:
    token = issuer.mint(**claims)

    with pytest.raises(Unauthorized):
        await JwksVerifier.from_jwks(issuer.jwks()).verify(token)


async def test_a_subject_that_is_not_a_uuid_is_refused(issuer: TestTokenIssuer) -> None:
    with pytest.raises(Unauthorized):
        await JwksVerifier.from_jwks(issuer.jwks()).verify(issuer.mint(sub="admin"))


async def test_a_tampered_token_is_refused(issuer: TestTokenIssuer) -> None:
    header, payload, signature = issuer.mint(role="customer").split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["role"] = "admin"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()

    with pytest.raises(Unauthorized, match="invalid"):
        await JwksVerifier.from_jwks(issuer.jwks()).verify(f"{header}.{forged}.{signature}")


async def test_a_token_signed_by_another_key_with_the_same_kid_is_refused(issuer: TestTokenIssuer) -> None:
    impostor = TestTokenIssuer(kid=issuer.kid)

    with pytest.raises(Unauthorized, match="invalid"):
        await JwksVerifier.from_jwks(issuer.jwks()).verify(impostor.mint())


async def test_alg_none_is_refused(issuer: TestTokenIssuer) -> None:
    token = jwt.encode(
        {"sub": str(uuid.uuid4()), "role": "admin", "iss": "casefold-identity", "aud": "casefold"},
        key="",
        algorithm="none",
        headers={"kid": issuer.kid},
    )

    with pytest.raises(Unauthorized, match="algorithm"):
        await JwksVerifier.from_jwks(issuer.jwks()).verify(token)


async def test_hs256_signed_with_the_public_key_is_refused(issuer: TestTokenIssuer) -> None:
    public_pem = issuer.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    claims = jwt.decode(issuer.mint(role="admin"), options={"verify_signature": False})
    # PyJWT refuses PEM keys as HMAC secrets, so sign by hand as an attacker would.
    header = base64.urlsafe_b64encode(json.dumps({"alg": "HS256", "kid": issuer.kid}).encode()).rstrip(b"=")
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=")
    signature = base64.urlsafe_b64encode(hmac.new(public_pem, header + b"." + payload, hashlib.sha256).digest()).rstrip(
        b"="
    )
    token = b".".join([header, payload, signature]).decode()

    with pytest.raises(Unauthorized, match="algorithm"):
        await JwksVerifier.from_jwks(issuer.jwks()).verify(token)


@pytest.mark.parametrize("token", ["", "not-a-jwt", "a.b.c", "eyJhbGciOiJFUzI1NiJ9.e30"])
async def test_garbage_is_refused(issuer: TestTokenIssuer, token: str) -> None:
    with pytest.raises(Unauthorized):
        await JwksVerifier.from_jwks(issuer.jwks()).verify(token)


async def test_a_token_without_kid_is_refused(issuer: TestTokenIssuer) -> None:
    claims = jwt.decode(issuer.mint(), options={"verify_signature": False})
    token = jwt.encode(claims, issuer.private_key, algorithm="ES256")

    with pytest.raises(Unauthorized, match="key"):
        await JwksVerifier.from_jwks(issuer.jwks()).verify(token)


async def test_keys_are_fetched_once_and_cached(issuer: TestTokenIssuer) -> None:
    server = JwksServer(issuer.jwks())
    verifier = server.verifier(FakeClock())

    for _ in range(3):
        await verifier.verify(issuer.mint())

    assert server.fetches == 1


async def test_an_unknown_kid_triggers_one_refetch(issuer: TestTokenIssuer) -> None:
    clock = FakeClock()
    server = JwksServer(issuer.jwks())
    verifier = server.verifier(clock, min_refetch_interval=30)
    await verifier.verify(issuer.mint())
    rotated = TestTokenIssuer()
    server.jwks = {"keys": issuer.jwks()["keys"] + rotated.jwks()["keys"]}
    clock.now += 31

    await verifier.verify(rotated.mint())
    await verifier.verify(rotated.mint())

    assert server.fetches == 2


async def test_unknown_kids_do_not_hammer_the_jwks_endpoint(issuer: TestTokenIssuer) -> None:
    clock = FakeClock()
    server = JwksServer(issuer.jwks())
    verifier = server.verifier(clock, min_refetch_interval=30)
    await verifier.verify(issuer.mint())
    stranger = TestTokenIssuer()
    clock.now += 31

    for _ in range(5):
        with pytest.raises(Unauthorized, match="unknown key"):
            await verifier.verify(stranger.mint())
    clock.now += 31
    with pytest.raises(Unauthorized, match="unknown key"):
        await verifier.verify(stranger.mint())

    assert server.fetches == 3


async def test_the_cache_expires_after_its_ttl(issuer: TestTokenIssuer) -> None:
    clock = FakeClock()
    server = JwksServer(issuer.jwks())
    verifier = server.verifier(clock, cache_ttl=300, min_refetch_interval=30)
    await verifier.verify(issuer.mint())
    clock.now += 301

    await verifier.verify(issuer.mint())

    assert server.fetches == 2


async def test_known_keys_keep_working_while_identity_is_down(issuer: TestTokenIssuer) -> None:
    clock = FakeClock()
    server = JwksServer(issuer.jwks())
    verifier = server.verifier(clock, cache_ttl=300)
    await verifier.verify(issuer.mint())
    server.failing = True
    clock.now += 301

    principal = await verifier.verify(issuer.mint(role="admin"))

    assert principal.is_admin
    assert server.fetches == 2


async def test_no_keys_at_all_is_unavailable_not_unauthorized(issuer: TestTokenIssuer) -> None:
    server = JwksServer(issuer.jwks())
    server.failing = True

    with pytest.raises(ServiceUnavailable):
        await server.verifier(FakeClock()).verify(issuer.mint())


async def test_unusable_keys_in_the_set_are_ignored(issuer: TestTokenIssuer) -> None:
    jwks = {"keys": [{"kty": "RSA", "kid": "rsa", "n": "x", "e": "AQAB"}, {"kid": 5}, *issuer.jwks()["keys"]]}

    assert (await JwksVerifier.from_jwks(jwks).verify(issuer.mint())).role == "customer"


async def test_a_revoked_token_is_refused(issuer: TestTokenIssuer) -> None:
    revoked = {"t-revoked"}
    asked: list[str] = []

    async def is_revoked(jti: str) -> bool:
        asked.append(jti)
        return jti in revoked

    verifier = JwksVerifier.from_jwks(issuer.jwks(), is_revoked=is_revoked)

    await verifier.verify(issuer.mint(jti="t-fine"))
    with pytest.raises(Unauthorized, match="revoked"):
        await verifier.verify(issuer.mint(jti="t-revoked"))
    assert asked == ["t-fine", "t-revoked"]


def test_a_verifier_needs_a_source() -> None:
    with pytest.raises(ValueError, match="jwks"):
        JwksVerifier()


@pytest.fixture
def client(app_factory: Callable[..., FastAPI], issuer: TestTokenIssuer) -> TestClient:
    return TestClient(app_factory(verifier=JwksVerifier.from_jwks(issuer.jwks())))


def test_a_request_without_token_is_401_with_a_bearer_challenge(client: TestClient) -> None:
    response = client.get("/me")

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == 'Bearer realm="casefold"'
    assert response.json()["error_id"] == response.headers["x-request-id"]


def test_a_request_with_a_bad_token_is_401_invalid_token(client: TestClient, issuer: TestTokenIssuer) -> None:
    response = client.get("/me", headers={"Authorization": f"Bearer {issuer.mint(expires_in=-60)}"})

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="casefold", error="invalid_token"'
    assert "expired" in response.json()["detail"]


def test_a_non_bearer_scheme_is_401(client: TestClient) -> None:
    response = client.get("/me", headers={"Authorization": "Basic dXNlcjpwYXNz"})

    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_valid_bearer_token_reaches_the_route(client: TestClient, issuer: TestTokenIssuer) -> None:
    user_id = uuid.uuid4()

    response = client.get("/me", headers=issuer.auth_header(user_id=user_id))

    assert response.status_code == 200
    assert response.json() == {"user_id": str(user_id), "role": "customer"}


def test_require_agent_refuses_customers(client: TestClient, issuer: TestTokenIssuer) -> None:
    response = client.get("/queue", headers=issuer.auth_header(role="customer"))

    assert response.status_code == 403
    assert response.json()["type"] == "https://casefold.dev/problems/forbidden"


@pytest.mark.parametrize("role", ["agent", "admin"])
def test_require_agent_admits_agents_and_admins(client: TestClient, issuer: TestTokenIssuer, role: str) -> None:
    response = client.get("/queue", headers=issuer.auth_header(role=role, display_name="Grace"))

    assert response.status_code == 200
    assert response.json() == {"agent": "Grace"}


class CountingDecode:
    """Wraps jwt.decode, counting the full verifications (signature and claims)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        original = jwt.decode

        def decode(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return original(*args, **kwargs)

        monkeypatch.setattr("casefold_platform.auth.jwt.decode", decode)


async def test_a_token_seen_before_is_not_verified_again(
    issuer: TestTokenIssuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    decodes = CountingDecode(monkeypatch)
    verifier = JwksVerifier.from_jwks(issuer.jwks())
    token = issuer.mint(jti="t-again")

    principals = [await verifier.verify(token) for _ in range(3)]

    assert decodes.calls == 1
    assert {p.token_id for p in principals} == {"t-again"}


async def test_a_remembered_token_is_still_refused_once_revoked(issuer: TestTokenIssuer) -> None:
    revoked: set[str] = set()

    async def is_revoked(jti: str) -> bool:
        return jti in revoked

    verifier = JwksVerifier.from_jwks(issuer.jwks(), is_revoked=is_revoked)
    token = issuer.mint(jti="t-later-revoked")
    await verifier.verify(token)
    revoked.add("t-later-revoked")

    with pytest.raises(Unauthorized, match="revoked"):
        await verifier.verify(token)


async def test_a_remembered_token_is_verified_in_full_after_its_expiry(
    issuer: TestTokenIssuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    wall = FakeClock()
    token = issuer.mint(expires_in=600)
    wall.now = float(jwt.decode(token, options={"verify_signature": False})["exp"]) - 1
    decodes = CountingDecode(monkeypatch)
    verifier = JwksVerifier.from_jwks(issuer.jwks(), wall_clock=wall)
    await verifier.verify(token)
    await verifier.verify(token)
    wall.now += 2

    await verifier.verify(token)  # the real clock says it is still valid: a full check, not a refusal from memory

    assert decodes.calls == 2


async def test_a_remembered_token_whose_key_left_the_set_is_refused(issuer: TestTokenIssuer) -> None:
    clock = FakeClock()
    server = JwksServer(issuer.jwks())
    verifier = server.verifier(clock, cache_ttl=300, min_refetch_interval=30)
    token = issuer.mint()
    await verifier.verify(token)
    server.jwks = TestTokenIssuer().jwks()  # identity rotated its key away
    clock.now += 301

    with pytest.raises(Unauthorized, match="unknown key"):
        await verifier.verify(token)


async def test_the_remembered_tokens_are_bounded(issuer: TestTokenIssuer, monkeypatch: pytest.MonkeyPatch) -> None:
    decodes = CountingDecode(monkeypatch)
    verifier = JwksVerifier.from_jwks(issuer.jwks(), verified_cache_size=2)
    first, second, third = (issuer.mint() for _ in range(3))
    for token in (first, second, third, first):
        await verifier.verify(token)

    assert decodes.calls == 4  # the first was forgotten when the third came
