"""Session commands: log in, refresh (rotating, with reuse detection), log out."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg
import structlog

from casefold_platform.problems import RateLimited, Unauthorized
from identity.adapters import rate_limits, sessions, users
from identity.adapters.secrets import new_token
from identity.app.common import Identity, transact
from identity.app.hashing import HashingBusy
from identity.domain.emails import email_key, normalise_email
from identity.domain.errors import ACCOUNT_DISABLED, AccountDisabled

log = structlog.get_logger("identity.sessions")

LOGIN_FAILED = "The email address or the password is not correct."
REFRESH_FAILED = "The refresh token is invalid, expired or revoked; log in again."


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int


def _login_key(email: str) -> str:
    try:
        return email_key(normalise_email(email))
    except Exception:
        return email.strip().casefold()


def login_account_bucket(email: str) -> str:
    """The rate-limit bucket of failed logins for one account (from every address)."""
    return f"login:acct:{_login_key(email)}"


def login_pair_prefix(email: str) -> str:
    """The prefix of the buckets of failed logins on one account, one bucket per client address."""
    return f"login:pair:{_login_key(email)}|"


async def _issue(
    ctx: Identity, conn: asyncpg.Connection, user_id: UUID, family_id: UUID, parent: bytes | None
) -> TokenPair:
    row = await users.by_id(conn, user_id)
    if row is None:
        raise Unauthorized(REFRESH_FAILED, invalid_token=False)
    if row.disabled:
        # Refused after the password was checked (or with a token of the revoked sessions): the transaction, and
        # the session it would open, roll back.
        raise AccountDisabled(ACCOUNT_DISABLED)
    access = await ctx.access_tokens.issue(
        user_id=row.id, role=row.role, display_name=row.display_name, email_verified=row.email_verified,
        session_id=family_id,
    )  # fmt: skip
    refresh, refresh_hash = new_token()
    await sessions.record_issue(
        conn, refresh_hash=refresh_hash, family_id=family_id, parent_hash=parent,
        expires_at=datetime.now(UTC) + timedelta(days=ctx.settings.refresh_token_days), access_jti=access.jti,
        access_expires_at=access.expires_at,
    )  # fmt: skip
    return TokenPair(access.token, refresh, access.expires_in)


async def login(ctx: Identity, email: str, password: str, client_address: str) -> TokenPair:
    """Open a session. Unknown email and wrong password answer alike, in about the same time."""
    settings = ctx.settings
    window = settings.login_window_seconds
    login_key = _login_key(email)
    account_bucket = login_account_bucket(email)
    address_bucket = f"login:addr:{client_address}"
    pair_bucket = login_pair_prefix(email) + client_address
    # Growing delays per (account, address), and far looser ones per account: whoever guesses from one address is
    # slowed down without locking the owner out from theirs. The address bucket is a hard limit (spraying).
    delayed = [
        rate_limits.Delayed(pair_bucket, settings.login_free_failures, settings.login_max_delay_seconds),
        rate_limits.Delayed(
            account_bucket, settings.login_free_failures_per_account, settings.login_account_max_delay_seconds
        ),
    ]
    hard = [(address_bucket, settings.login_failures_per_address)]

    async def reserve_attempt(conn: asyncpg.Connection) -> int | None:
        # Counted before the password is checked, under the buckets' locks: a burst of concurrent guesses cannot
        # all pass a check that none of them has been counted in yet. A success takes its count back below.
        return await rate_limits.take_with_delays(conn, hard, delayed, window_seconds=window)

    wait = await transact(ctx.pool, reserve_attempt)
    if wait is not None:
        raise RateLimited("Too many failed logins; try again later.", retry_after=wait)
    user_id, stored = await users.login_lookup(ctx.pool, login_key)
    try:
        ok = await ctx.hashing.verify(stored, password)
    except HashingBusy:
        # Not attempted: the password was never checked, so it must not count towards a lockout.
        await transact(ctx.pool, lambda conn: _release_all(conn, [pair_bucket, account_bucket, address_bucket]))
        raise
    if user_id is None or not ok:
        log.info("login_failed", known_account=user_id is not None)
        raise Unauthorized(LOGIN_FAILED, invalid_token=False)
    known_user = user_id

    async def open_session(conn: asyncpg.Connection) -> TokenPair:
        await rate_limits.clear(conn, pair_bucket)
        await rate_limits.release(conn, account_bucket)
        await rate_limits.release(conn, address_bucket)
        family_id = uuid.uuid4()
        await sessions.create_session(conn, family_id, known_user)
        return await _issue(ctx, conn, known_user, family_id, None)

    return await transact(ctx.pool, open_session)


async def _release_all(conn: asyncpg.Connection, buckets: list[str]) -> None:
    for bucket in buckets:
        await rate_limits.release(conn, bucket)


async def refresh(ctx: Identity, refresh_token: str) -> TokenPair:
    """Rotate: the presented token is spent and a new pair issued. Presenting a spent token ends its session."""

    async def work(conn: asyncpg.Connection) -> TokenPair | None:
        row = await sessions.lock_refresh_token(conn, refresh_token)
        if row is None or row.revoked_at is not None or row.expires_at <= datetime.now(UTC):
            return None
        if row.rotated_at is not None:
            # Someone holds a copy of a spent token: the thief or the owner, we cannot tell. End the session.
            await sessions.revoke_family(conn, row.family_id, "refresh token reused")
            log.warning("refresh_token_reused", session_id=str(row.family_id), user_id=str(row.user_id))
            return None
        await sessions.mark_rotated(conn, row.token_hash)
        return await _issue(ctx, conn, row.user_id, row.family_id, row.token_hash)

    pair = await transact(ctx.pool, work)
    if pair is None:
        raise Unauthorized(REFRESH_FAILED, invalid_token=False)
    return pair


async def logout(ctx: Identity, refresh_token: str) -> None:
    """End the session the refresh token belongs to (every token of the family, access tokens included)."""

    async def work(conn: asyncpg.Connection) -> None:
        row = await sessions.lock_refresh_token(conn, refresh_token)
        if row is not None:
            await sessions.revoke_family(conn, row.family_id, "logout")

    await transact(ctx.pool, work)
