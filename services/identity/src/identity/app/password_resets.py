"""Password reset by an emailed link: request it (uniform answer, rate limited), then set a new password."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import asyncpg

from casefold_platform.problems import RateLimited
from identity.adapters import password_resets, rate_limits, sessions, users
from identity.adapters.mail import send_account_email
from identity.app.common import Identity, metadata_for, transact
from identity.app.sessions import login_account_bucket, login_pair_prefix
from identity.domain.emails import email_key, normalise_email
from identity.domain.errors import RESET_LINK_INVALID, InvalidResetToken
from identity.domain.passwords import check_password_policy

HOUR = 3600


def _link(ctx: Identity, token: str) -> str:
    return f"{ctx.settings.public_url.rstrip('/')}/reset-password?token={quote(token)}"


async def request_reset(ctx: Identity, email: str, client_address: str) -> None:
    """Mail a reset link when the address has an account; the same answer (and the same counting) when it has not."""
    email = normalise_email(email)
    settings = ctx.settings
    # The per-email bucket counts unknown addresses too, so a 429 tells nothing about whether an account exists.
    buckets = [(f"reset:addr:{client_address}", settings.password_resets_per_address_per_hour),
               (f"reset:email:{email_key(email)}", settings.password_resets_per_email_per_hour)]  # fmt: skip

    async def work(conn: asyncpg.Connection) -> int | None:
        wait = await rate_limits.take_all(conn, buckets, window_seconds=HOUR)
        if wait is not None:
            return wait
        row = await users.by_email(conn, email)
        if row is None:
            return None
        expires_at = datetime.now(UTC) + timedelta(seconds=settings.password_reset_seconds)
        token = await password_resets.issue(conn, row.id, row.email, expires_at)
        await send_account_email(
            conn, settings.mail_topic, user_id=row.id, template="password-reset", to=row.email,
            display_name=row.display_name, action_url=_link(ctx, token), expires_at=expires_at,
            metadata=metadata_for(row.id, row.role),
        )  # fmt: skip
        return None

    wait = await transact(ctx.pool, work)
    if wait is not None:
        raise RateLimited("Too many password reset requests; try again later.", retry_after=wait)


async def confirm_reset(ctx: Identity, token: str, new_password: str) -> None:
    """Set the new password, end every session of the user (access tokens too) and send a notice."""
    reset = await password_resets.peek(ctx.pool, token)
    if reset is None:
        raise InvalidResetToken(RESET_LINK_INVALID)
    row = await users.by_id(ctx.pool, reset.user_id)
    if row is None:
        raise InvalidResetToken(RESET_LINK_INVALID)
    # Checked before the token is spent: a refused password leaves the link usable for a better one.
    check_password_policy(new_password, email=row.email, display_name=row.display_name, field="new_password")
    new_hash = await ctx.hashing.hash(new_password)

    async def work(conn: asyncpg.Connection) -> None:
        spent = await password_resets.consume(conn, token)
        if spent is None:
            raise InvalidResetToken(RESET_LINK_INVALID)
        user = await ctx.users.load(conn, str(spent.user_id))
        metadata = metadata_for(user.user_id, user.role)
        await ctx.users.save(conn, user, user.reset_password(spent.email), metadata)
        await users.project(conn, user)
        await users.set_password_hash(conn, user.user_id, new_hash)
        await password_resets.retire_all(conn, user.user_id)
        await sessions.revoke_other_sessions(conn, user.user_id, None, "password reset")
        # Whoever was locked out by failed logins has just proved who they are.
        await rate_limits.clear(conn, login_account_bucket(user.email))
        await rate_limits.clear_prefix(conn, login_pair_prefix(user.email))
        await send_account_email(
            conn, ctx.settings.mail_topic, user_id=user.user_id, template="password-reset-notice", to=user.email,
            display_name=user.display_name, metadata=metadata,
        )  # fmt: skip

    await transact(ctx.pool, work)
