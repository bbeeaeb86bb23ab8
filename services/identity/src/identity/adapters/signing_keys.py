"""ES256 signing keys: kept in the database (rotated by command) or given as a PEM bundle; the JWKS they publish.

The newest key that is not retired signs; every key that is not retired is published, so tokens signed with the
previous key keep verifying until it is retired (after the access-token lifetime has passed).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

ACTIVE_KEYS = "SELECT kid, private_pem FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at, kid"
INSERT_KEY = "INSERT INTO signing_keys (kid, private_pem) VALUES ($1, $2)"
# The active key is never retired by this: at least one key always remains.
RETIRE_OLDER = """
    UPDATE signing_keys SET retired_at = now()
    WHERE retired_at IS NULL AND created_at < now() - $1::interval
      AND kid <> (SELECT kid FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC, kid DESC LIMIT 1)
    RETURNING kid
"""
_PEM_BLOCK = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.+?-----END [A-Z ]*PRIVATE KEY-----", re.DOTALL)


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: ec.EllipticCurvePrivateKey

    def public_jwk(self) -> dict[str, Any]:
        jwk = ECAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        return {**jwk, "kid": self.kid, "use": "sig", "alg": "ES256"}


def thumbprint(key: ec.EllipticCurvePrivateKey) -> str:
    """RFC 7638 JWK thumbprint of the public key: a kid every replica derives alike."""
    jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    canonical = json.dumps({k: jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


def load_pem(pem: str) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ValueError("signing keys must be EC P-256 private keys")
    return key


def keys_from_bundle(bundle: str) -> list[SigningKey]:
    """The keys of a PEM bundle, in order (the last one signs)."""
    keys = [load_pem(block) for block in _PEM_BLOCK.findall(bundle)]
    if not keys:
        raise ValueError("IDENTITY_SIGNING_KEYS holds no PEM private key")
    return [SigningKey(thumbprint(k), k) for k in keys]


def generate() -> tuple[SigningKey, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return SigningKey(thumbprint(key), key), pem


async def stored_keys(conn: asyncpg.Connection | asyncpg.Pool) -> list[SigningKey]:
    """The keys that are not retired, oldest first (the last one signs)."""
    return [SigningKey(r["kid"], load_pem(r["private_pem"])) for r in await conn.fetch(ACTIVE_KEYS)]


async def add_key(conn: asyncpg.Connection | asyncpg.Pool) -> SigningKey:
    """Generate a key and make it the signing one (the previous keys stay published)."""
    key, pem = generate()
    await conn.execute(INSERT_KEY, key.kid, pem)
    return key


async def retire_keys(conn: asyncpg.Connection | asyncpg.Pool, older_than: timedelta) -> list[str]:
    return [r["kid"] for r in await conn.fetch(RETIRE_OLDER, older_than)]


class KeyRing:
    """The keys in force, reloaded from the database at most every `ttl` seconds (rotation by another process)."""

    def __init__(self, pool: asyncpg.Pool | None, *, bundle: list[SigningKey] | None = None, ttl: float = 5.0):
        if pool is None and not bundle:
            raise ValueError("KeyRing needs a database pool or a key bundle")
        self._pool = pool
        self._keys: list[SigningKey] = list(bundle or [])
        self._static = bundle is not None
        self._ttl = ttl
        self._loaded_at = 0.0 if not self._static else float("inf")

    async def keys(self) -> list[SigningKey]:
        if not self._static and time.monotonic() - self._loaded_at >= self._ttl:
            assert self._pool is not None
            self._keys = await stored_keys(self._pool)
            self._loaded_at = time.monotonic()
        if not self._keys:
            raise LookupError("no signing key: run `python -m identity rotate-signing-key`")
        return self._keys

    async def signing_key(self) -> SigningKey:
        return (await self.keys())[-1]

    async def jwks(self) -> dict[str, Any]:
        return {"keys": [k.public_jwk() for k in await self.keys()]}

    def invalidate(self) -> None:
        if not self._static:
            self._loaded_at = 0.0


def utc_interval(value: str) -> timedelta:
    """Parse '15m', '2h', '7d', '30s' (the retire command's --older-than)."""
    match = re.fullmatch(r"(\d+)([smhd])", value.strip())
    if not match:
        raise ValueError("use a number followed by s, m, h or d, for example 20m")
    unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[match.group(2)]
    return timedelta(**{unit: int(match.group(1))})
