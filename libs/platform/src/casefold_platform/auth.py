"""Access-token verification for every service: ES256 JWTs from identity, checked against its cached JWKS."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from uuid import UUID

import httpx
import jwt
import structlog
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, ValidationError

from casefold_platform.problems import Forbidden, ServiceUnavailable, Unauthorized
from casefold_platform.revocation import tls_context

ISSUER = "casefold-identity"
AUDIENCE = "casefold"
ALGORITHM = "ES256"

Role = Literal["customer", "agent", "admin"]
RevocationCheck = Callable[[str], Awaitable[bool]]

log = structlog.get_logger("casefold.auth")


@dataclass(frozen=True)
class Principal:
    """The verified caller of a request."""

    user_id: UUID
    role: Role
    display_name: str
    email_verified: bool
    token_id: str

    @property
    def is_agent(self) -> bool:
        """Agents and admins answer every case."""
        return self.role in ("agent", "admin")

    @property
    def is_admin(self) -> bool:
        """Admins also manage roles."""
        return self.role == "admin"


class _Claims(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")

    sub: str
    role: Role
    display_name: str
    email_verified: bool
    jti: str


def _keys_from_jwks(jwks: Mapping[str, Any]) -> dict[str, jwt.PyJWK]:
    """The usable ES256 signing keys of a JWKS, by kid; anything else in the set is ignored."""
    keys: dict[str, jwt.PyJWK] = {}
    for data in jwks.get("keys", []):
        if not isinstance(data, Mapping) or not isinstance(data.get("kid"), str):
            continue
        if data.get("kty") != "EC" or data.get("crv") != "P-256" or data.get("use", "sig") != "sig":
            continue
        if data.get("alg", ALGORITHM) != ALGORITHM:
            continue
        try:
            keys[data["kid"]] = jwt.PyJWK(dict(data), algorithm=ALGORITHM)
        except jwt.PyJWTError:
            log.warning("jwks_key_unusable", kid=data["kid"])
    return keys


class JwksVerifier:
    """Verifies access tokens against a JWKS fetched from a URL (cached, refetched on an unknown kid) or given."""

    def __init__(
        self,
        jwks_url: str | None = None,
        *,
        jwks: Mapping[str, Any] | None = None,
        issuer: str = ISSUER,
        audience: str = AUDIENCE,
        cache_ttl: float = 300.0,
        min_refetch_interval: float = 30.0,
        leeway: float = 10.0,
        is_revoked: RevocationCheck | None = None,
        http_client: httpx.AsyncClient | None = None,
        timeout: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        verified_cache_size: int = 4096,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        if jwks_url is None and jwks is None:
            raise ValueError("JwksVerifier needs a jwks_url or a static jwks")
        self.jwks_url = jwks_url
        self.issuer = issuer
        self.audience = audience
        self.cache_ttl = cache_ttl
        self.min_refetch_interval = min_refetch_interval
        self.leeway = leeway
        self.is_revoked = is_revoked
        self._http_client = http_client
        self._timeout = timeout
        self._clock = clock
        self._keys: dict[str, jwt.PyJWK] = _keys_from_jwks(jwks) if jwks is not None else {}
        self._fetched_at: float | None = clock() if jwks is not None else None
        self._attempted_at: float | None = None
        self._lock = asyncio.Lock()
        # token -> (principal, exp, kid): a signature checked once per token, not once per request (the ECDSA
        # check and the claim parsing were a tenth of a command's CPU). Exact token strings only, so a hit is the
        # very bytes verified before; bounded (least recently used out), honoured only until the token's exp and
        # while its key is still in a fresh key set. The revocation list is asked on every request, hit or not.
        self._verified: OrderedDict[str, tuple[Principal, float, str]] = OrderedDict()
        self._verified_cache_size = verified_cache_size
        self._wall_clock = wall_clock

    @classmethod
    def from_jwks(cls, jwks: Mapping[str, Any], **kwargs: Any) -> JwksVerifier:
        """A verifier over a fixed key set (tests, or keys mounted from a secret)."""
        return cls(jwks=jwks, **kwargs)

    async def verify(self, token: str) -> Principal:
        """The principal of a valid access token; Unauthorized on any defect, ServiceUnavailable without keys."""
        principal = self._cached(token) or await self._verify_signed(token)
        if self.is_revoked is not None and await self.is_revoked(principal.token_id):
            raise Unauthorized("The access token has been revoked.")
        return principal

    def _cached(self, token: str) -> Principal | None:
        entry = self._verified.get(token)
        if entry is None:
            return None
        principal, expires_at, kid = entry
        fresh_keys = self.jwks_url is None or not self._stale()
        if self._wall_clock() >= expires_at or not fresh_keys or kid not in self._keys:
            del self._verified[token]  # verified again in full (and the key set refreshed when it is due)
            return None
        self._verified.move_to_end(token)
        return principal

    async def _verify_signed(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthorized("The access token is malformed.") from exc
        # Checked before any key lookup: "none" and HS256-with-the-public-key are the classic confusions.
        if header.get("alg") != ALGORITHM:
            raise Unauthorized("The access token is not signed with an accepted algorithm.")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise Unauthorized("The access token names no signing key.")
        key = await self._key(kid)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("The access token has expired.") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized("The access token is invalid.") from exc
        principal = _principal(claims)
        if self._verified_cache_size > 0:
            self._verified[token] = (principal, float(claims["exp"]), kid)
            if len(self._verified) > self._verified_cache_size:
                self._verified.popitem(last=False)
        return principal

    async def refresh(self) -> None:
        """Fetch the JWKS now (also usable at startup to fail fast)."""
        async with self._lock:
            await self._fetch()

    async def _key(self, kid: str) -> jwt.PyJWK:
        if self.jwks_url is not None and (kid not in self._keys or self._stale()):
            async with self._lock:
                # Another request may have refreshed while this one waited for the lock.
                if (kid not in self._keys or self._stale()) and self._may_fetch():
                    await self._fetch_keeping_old_keys()
        if kid in self._keys:
            return self._keys[kid]
        if not self._keys and self.jwks_url is not None:
            raise ServiceUnavailable("The signing keys cannot be fetched; try again shortly.")
        raise Unauthorized("The access token is signed with an unknown key.")

    def _stale(self) -> bool:
        return self._fetched_at is None or self._clock() - self._fetched_at >= self.cache_ttl

    def _may_fetch(self) -> bool:
        return self._attempted_at is None or self._clock() - self._attempted_at >= self.min_refetch_interval

    async def _fetch_keeping_old_keys(self) -> None:
        try:
            await self._fetch()
        except (httpx.HTTPError, ValueError) as exc:
            # Identity being briefly down must not log everyone out: keep verifying with the keys we have.
            log.warning("jwks_fetch_failed", url=self.jwks_url, error=str(exc), cached_keys=len(self._keys))

    async def _fetch(self) -> None:
        assert self.jwks_url is not None
        self._attempted_at = self._clock()
        if self._http_client is not None:
            response = await self._http_client.get(self.jwks_url, timeout=self._timeout)
        else:
            async with httpx.AsyncClient(timeout=self._timeout, verify=tls_context()) as client:
                response = await client.get(self.jwks_url)
        response.raise_for_status()
        body = response.json()
        if not isinstance(body, Mapping):
            raise ValueError("JWKS is not a JSON object")
        self._keys = _keys_from_jwks(body)
        self._fetched_at = self._clock()
        log.info("jwks_fetched", url=self.jwks_url, kids=sorted(self._keys))


def _principal(claims: Mapping[str, Any]) -> Principal:
    try:
        parsed = _Claims.model_validate(claims)
        user_id = UUID(parsed.sub)
    except (ValidationError, ValueError) as exc:
        raise Unauthorized("The access token's claims are incomplete.") from exc
    return Principal(
        user_id=user_id,
        role=parsed.role,
        display_name=parsed.display_name,
        email_verified=parsed.email_verified,
        token_id=parsed.jti,
    )


_bearer = HTTPBearer(auto_error=False, description="An access token from POST /api/identity/sessions.")


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """Dependency: the verified caller, from `Authorization: Bearer` and `app.state.jwt_verifier`."""
    if credentials is None or not credentials.credentials:
        raise Unauthorized("An access token is required.", invalid_token=False)
    verifier = getattr(request.app.state, "jwt_verifier", None)
    if not isinstance(verifier, JwksVerifier):
        raise RuntimeError("app.state.jwt_verifier must be a JwksVerifier (set it in the service's lifespan)")
    principal = await verifier.verify(credentials.credentials)
    structlog.contextvars.bind_contextvars(user_id=str(principal.user_id))
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


async def require_agent(principal: CurrentPrincipal) -> Principal:
    """Dependency: the caller, who must be an agent or admin."""
    if not principal.is_agent:
        raise Forbidden("This action is for support agents.")
    return principal


async def require_admin(principal: CurrentPrincipal) -> Principal:
    """Dependency: the caller, who must be an admin."""
    if not principal.is_admin:
        raise Forbidden("This action is for administrators.")
    return principal


AgentPrincipal = Annotated[Principal, Depends(require_agent)]
AdminPrincipal = Annotated[Principal, Depends(require_admin)]
