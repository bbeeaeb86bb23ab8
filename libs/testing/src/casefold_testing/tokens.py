"""Access tokens for tests: an ES256 issuer shaped like the identity service's, with its JWKS."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

# The same values as casefold_platform.auth; repeated so that this plugin does not depend on casefold-platform.
ISSUER = "casefold-identity"
AUDIENCE = "casefold"


class TestTokenIssuer:
    """Mints access tokens with a fresh P-256 key; `jwks()` is what identity would publish."""

    __test__ = False  # a helper, not a test class, despite its name

    def __init__(self, kid: str | None = None, *, issuer: str = ISSUER, audience: str = AUDIENCE) -> None:
        self.kid = kid or f"test-{uuid.uuid4().hex[:12]}"
        self.issuer = issuer
        self.audience = audience
        self.private_key = ec.generate_private_key(ec.SECP256R1())

    def jwks(self) -> dict[str, Any]:
        """The public key set: {"keys": [one EC P-256 key with this issuer's kid]}."""
        jwk = ECAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        return {"keys": [{**jwk, "kid": self.kid, "use": "sig", "alg": "ES256"}]}

    def mint(
        self,
        user_id: uuid.UUID | str | None = None,
        role: str = "customer",
        email_verified: bool = True,
        display_name: str = "Test User",
        expires_in: int = 900,
        *,
        headers: dict[str, Any] | None = None,
        **overrides: Any,
    ) -> str:
        """A signed access token; overrides replace or add claims (a None value removes the claim)."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": str(user_id or uuid.uuid4()),
            "role": role,
            "display_name": display_name,
            "email_verified": email_verified,
            "iss": self.issuer,
            "aud": self.audience,
            "iat": now,
            "exp": now + expires_in,
            "jti": uuid.uuid4().hex,
        }
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(claims, self.private_key, algorithm="ES256", headers={"kid": self.kid, **(headers or {})})

    def auth_header(self, **mint_kwargs: Any) -> dict[str, str]:
        """{"Authorization": "Bearer <a freshly minted token>"} for an HTTP client call."""
        return {"Authorization": f"Bearer {self.mint(**mint_kwargs)}"}
