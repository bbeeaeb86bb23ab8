"""The composition root: the pool, migrations, signing keys, the handlers' dependencies (Identity), the outbox relay
and the housekeeping loop, built once from Settings. The API app (main.py), the worker and the command line
(__main__.py) all take them from here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
import structlog

from casefold_events import locks
from casefold_events.migrate import migrate, package_migrations, shared_migrations
from casefold_events.relay import OutboxRelay
from casefold_events.store import EventStore, Repository
from casefold_platform.database import create_pool, outbox_relay
from casefold_platform.worker import Parts
from identity.adapters import sessions, signing_keys, users
from identity.adapters.signing_keys import KeyRing
from identity.app.common import Identity
from identity.app.hashing import HashGate
from identity.app.tokens import AccessTokens
from identity.config import Settings
from identity.domain.model import STREAM_TYPE, User
from identity.domain.passwords import Passwords
from identity.workers import Housekeeping

log = structlog.get_logger("identity.bootstrap")


async def apply_migrations(settings: Settings) -> list[str]:
    """The shared event-store tables, then identity's own; the names applied now."""
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


async def refresh_display_keys(pool: asyncpg.Pool) -> None:
    """Rows keyed by an older display-name rule get the current key (their names stay as they are)."""
    refreshed = await users.refresh_display_keys(pool)
    if refreshed:
        log.info("display_name_keys_refreshed", rows=refreshed)


def user_repository(settings: Settings) -> Repository[User]:
    return Repository(EventStore(topics={STREAM_TYPE: settings.events_topic}), User)


def build_identity(settings: Settings, pool: asyncpg.Pool) -> Identity:
    """The handlers' dependencies. Passwords() hashes a dummy password (64 MiB of argon2): build it once per process."""
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


@dataclass(frozen=True)
class Service:
    """Everything the identity processes share, over one pool."""

    settings: Settings
    pool: asyncpg.Pool
    identity: Identity
    relay: OutboxRelay

    def workers(self) -> Parts:
        """The worker's jobs: the outbox relay, then housekeeping (stopped in reverse)."""
        return Parts(self.relay, Housekeeping(self.identity))


def build(settings: Settings, pool: asyncpg.Pool) -> Service:
    return Service(
        settings=settings, pool=pool, identity=build_identity(settings, pool), relay=outbox_relay(settings, "identity")
    )


@asynccontextmanager
async def open_service(settings: Settings) -> AsyncIterator[Service]:
    """A Service over a small pool of its own, closed on exit (for the one-shot commands); migrations first where
    the settings ask (outside production)."""
    if settings.migrate_on_start:
        await apply_migrations(settings)
    pool = await create_pool(settings, min_size=1, max_size=2)
    try:
        yield build(settings, pool)
    finally:
        await pool.close()


@asynccontextmanager
async def open_worker(settings: Settings, pool: asyncpg.Pool) -> AsyncIterator[Parts]:
    """The worker command's parts, over the pool the shared worker runner made."""
    yield build(settings, pool).workers()
