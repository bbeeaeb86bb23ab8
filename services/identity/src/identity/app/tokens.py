"""Access tokens: ES256 JWTs signed with the key ring's newest key, and the local verifier identity itself uses."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import jwt

from casefold_platform.auth import ALGORITHM, AUDIENCE, ISSUER, JwksVerifier, Principal
from casefold_platform.problems import Unauthorized
from identity.adapters.signing_keys import KeyRing


@dataclass(frozen=True)
class IssuedAccessToken:
    token: str
    jti: str
    expires_at: datetime
    expires_in: int


@dataclass(frozen=True)
class Caller:
    """The verified principal plus the session (refresh-token family) its token belongs to."""

    principal: Principal
    session_id: UUID | None


class AccessTokens:
    """Issues access tokens and verifies them against the same keys (with a revocation check)."""

    def __init__(
        self, keyring: KeyRing, *, lifetime_seconds: int, is_revoked: Callable[[str], Awaitable[bool]]
    ) -> None:
        self.keyring = keyring
        self.lifetime_seconds = lifetime_seconds
        self._is_revoked = is_revoked
        self._verifier: JwksVerifier | None = None
        self._verifier_kids: tuple[str, ...] = ()

    async def issue(
        self, *, user_id: UUID, role: str, display_name: str, email_verified: bool, session_id: UUID
    ) -> IssuedAccessToken:
        key = await self.keyring.signing_key()
        now = int(time.time())
        jti = uuid.uuid4().hex
        claims: dict[str, Any] = {
            "iss": ISSUER, "aud": AUDIENCE, "sub": str(user_id), "role": role, "display_name": display_name,
            "email_verified": email_verified, "iat": now, "exp": now + self.lifetime_seconds, "jti": jti,
            "sid": str(session_id),
        }  # fmt: skip
        token = jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid})
        expires_at = datetime.fromtimestamp(now + self.lifetime_seconds, UTC)
        return IssuedAccessToken(token, jti, expires_at, self.lifetime_seconds)

    async def verify(self, token: str) -> Caller:
        """The caller of a valid, unrevoked token; Unauthorized otherwise."""
        principal = await (await self._current_verifier()).verify(token)
        sid = jwt.decode(token, options={"verify_signature": False}).get("sid")
        try:
            session_id = UUID(sid) if isinstance(sid, str) else None
        except ValueError:
            raise Unauthorized("The access token's claims are incomplete.") from None
        return Caller(principal, session_id)

    async def _current_verifier(self) -> JwksVerifier:
        jwks = await self.keyring.jwks()
        kids = tuple(k["kid"] for k in jwks["keys"])
        if self._verifier is None or kids != self._verifier_kids:
            self._verifier = JwksVerifier.from_jwks(jwks, is_revoked=self._is_revoked)
            self._verifier_kids = kids
        return self._verifier
