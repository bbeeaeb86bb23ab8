"""Wiring: the pool, migrations, signing keys and the Identity context, shared by the app and the commands."""

from __future__ import annotations

import asyncpg
import structlog

from casefold_events import locks
from casefold_events.migrate import migrate, package_migrations, shared_migrations
from identity.adapters import sessions, signing_keys
from identity.adapters.signing_keys import KeyRing
from identity.app.context import Identity, user_repository
from identity.app.hashing import HashGate
from identity.app.tokens import AccessTokens
from identity.config import Settings
from identity.domain.passwords import Passwords

log = structlog.get_logger("identity.bootstrap")


async def apply_migrations(settings: Settings) -> list[str]:
    return await migrate(settings.database_url, [shared_migrations(), package_migrations("identity")])


async def ensure_signing_key(settings: Settings, pool: asyncpg.Pool) -> None:
    """In development and test a first key is generated; in production one must be rotated in or bundled."""
    if settings.signing_keys or await signing_keys.stored_keys(pool):
        return
    if not settings.may_generate_signing_key:
        raise RuntimeError("no signing key: run `python -m identity rotate-signing-key` or set IDENTITY_SIGNING_KEYS")
    async with pool.acquire() as conn:
        # Two replicas starting together must not both generate one.
        await conn.execute("SELECT pg_advisory_lock($1)", locks.SIGNING_KEY_BOOTSTRAP.key)
        try:
            if not await signing_keys.stored_keys(conn):
                key = await signing_keys.add_key(conn)
                log.info("signing_key_generated", kid=key.kid)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", locks.SIGNING_KEY_BOOTSTRAP.key)


def build_identity(settings: Settings, pool: asyncpg.Pool) -> Identity:
    bundle = signing_keys.keys_from_bundle(settings.signing_keys) if settings.signing_keys else None
    keyring = KeyRing(None if bundle else pool, bundle=bundle, ttl=settings.key_cache_seconds)

    async def is_revoked(jti: str) -> bool:
        return await sessions.is_access_token_revoked(pool, jti)

    access_tokens = AccessTokens(keyring, lifetime_seconds=settings.access_token_seconds, is_revoked=is_revoked)
    passwords = Passwords()
    hashing = HashGate(
        passwords, concurrency=settings.max_concurrent_hashes, queue=settings.hash_queue_size,
        retry_after=settings.hash_busy_retry_after_seconds,
    )  # fmt: skip
    return Identity(settings, pool, user_repository(settings), passwords, access_tokens, hashing)
