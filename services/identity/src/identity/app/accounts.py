"""Account commands: sign up, confirm the address, resend, profile, password, email change, roles."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import quote
from uuid import UUID

import asyncpg

from casefold_events.contracts.identity import EmailConfirmed, Role, RoleGranted
from casefold_events.envelope import Metadata
from casefold_platform.auth import Principal
from casefold_platform.problems import NotFound, RateLimited, Unauthorized
from identity.adapters import confirmations, rate_limits, sessions, users
from identity.adapters.confirmations import Purpose
from identity.adapters.mail import send_account_email
from identity.app.common import EMAIL_TAKEN, NAME_TAKEN, Identity, metadata_for, metadata_of, transact
from identity.app.hashing import HashingBusy
from identity.domain.display_names import clean_display_name
from identity.domain.emails import email_key, normalise_email
from identity.domain.errors import Conflict, InvalidConfirmationToken, invalid
from identity.domain.model import User
from identity.domain.passwords import check_password_policy

HOUR = 3600
# A role change ends every session: access tokens carry the role, and a revoked role must not live 15 minutes on.
ROLE_CHANGED = "role changed"


def _link(ctx: Identity, token: str) -> str:
    return f"{ctx.settings.public_url.rstrip('/')}/confirm-email?token={quote(token)}"


async def _send_confirmation(
    ctx: Identity, conn: asyncpg.Connection, user: User, purpose: Purpose, email: str, metadata: Metadata
) -> None:
    """Issue a single-use link and queue its email on the private mail topic, in the caller's transaction."""
    expires_at = datetime.now(UTC) + timedelta(hours=ctx.settings.confirmation_hours)
    token = await confirmations.issue(conn, user.user_id, purpose, email, expires_at)
    await send_account_email(
        conn, ctx.settings.mail_topic, user_id=user.user_id, template=purpose, to=email,
        display_name=user.display_name, action_url=_link(ctx, token), expires_at=expires_at, metadata=metadata,
    )  # fmt: skip


async def _limit(ctx: Identity, bucket: str, limit: int, window: int) -> int | None:
    async def work(conn: asyncpg.Connection) -> int | None:
        return await rate_limits.take(conn, bucket, limit=limit, window_seconds=window)

    return await transact(ctx.pool, work)


async def register(
    ctx: Identity,
    *,
    email: str,
    password: str,
    display_name: str,
    accept_terms: bool,
    client_address: str,
    role: Role = "customer",
    address_vouched: bool = False,
) -> users.UserRow:
    """Create the account (UserRegistered) and send the confirmation link.

    address_vouched (create-admin only): the operator vouches for the address, so it is confirmed at once
    (EmailConfirmed) and no link is mailed.
    """
    if not accept_terms:
        raise invalid("accept_terms", "You must accept the terms of service to create an account.")
    email = normalise_email(email)
    display_name = clean_display_name(display_name)
    check_password_policy(password, email=email, display_name=display_name)
    wait = await _limit(ctx, f"signup:addr:{client_address}", ctx.settings.signups_per_address_per_hour, HOUR)
    if wait is not None:
        raise RateLimited("Too many sign-ups from this address; try again later.", retry_after=wait)
    password_hash = await ctx.hashing.hash(password)
    user_id = uuid.uuid4()

    async def work(conn: asyncpg.Connection) -> users.UserRow:
        if await users.email_taken(conn, email):
            raise Conflict(EMAIL_TAKEN, field="email")
        if await users.claim_display_name(conn, display_name):
            raise Conflict(NAME_TAKEN, field="display_name")
        user = User(str(user_id))
        metadata = metadata_for(user_id, role)
        events = [User.register(user_id, email, display_name, ctx.settings.terms_version, role)]
        if address_vouched:
            events.append(EmailConfirmed(user_id=user_id, email=email))
        await ctx.users.save(conn, user, events, metadata)
        await users.project(conn, user)
        await users.set_password_hash(conn, user_id, password_hash)
        if not address_vouched:
            await _send_confirmation(ctx, conn, user, "confirm-email", email, metadata)
        row = await users.by_id(conn, user_id)
        assert row is not None
        return row

    return await transact(ctx.pool, work)


async def confirm(ctx: Identity, token: str) -> None:
    """Consume a confirmation link: EmailConfirmed, or EmailChanged for an address change."""

    async def work(conn: asyncpg.Connection) -> None:
        confirmation = await confirmations.consume(conn, token)
        if confirmation is None:
            raise InvalidConfirmationToken("This confirmation link is invalid, already used or expired.")
        user = await ctx.users.load(conn, str(confirmation.user_id))
        if confirmation.purpose == "confirm-email":
            events = user.confirm_email(confirmation.email)
        else:
            if await users.email_taken(conn, confirmation.email, by_other_than=user.user_id):
                raise Conflict(EMAIL_TAKEN)
            old_email, old_name = user.email, user.display_name
            events = user.confirm_email_change(confirmation.email)
        metadata = metadata_for(user.user_id, user.role)
        await ctx.users.save(conn, user, events, metadata)
        await users.project(conn, user)
        if confirmation.purpose == "confirm-email-change":
            # The old address is the one its owner still reads if the account was taken over: tell it.
            await send_account_email(
                conn, ctx.settings.mail_topic, user_id=user.user_id, template="email-changed-notice", to=old_email,
                display_name=old_name, metadata=metadata,
            )  # fmt: skip

    await transact(ctx.pool, work)


async def resend_confirmation(ctx: Identity, email: str) -> None:
    """Send a fresh link when the address belongs to an unconfirmed account; silent otherwise (no enumeration)."""
    try:
        email = normalise_email(email)
    except Exception:
        return
    key = email_key(email)

    async def work(conn: asyncpg.Connection) -> None:
        limit = ctx.settings.resend_per_email_per_hour
        if await rate_limits.take(conn, f"resend:{key}", limit=limit, window_seconds=HOUR) is not None:
            return
        row = await users.by_email(conn, email)
        if row is None or row.email_verified:
            return
        user = await ctx.users.load(conn, str(row.id))
        await _send_confirmation(ctx, conn, user, "confirm-email", user.email, metadata_for(user.user_id, user.role))

    await transact(ctx.pool, work)


async def profile(ctx: Identity, principal: Principal) -> users.UserRow:
    row = await users.by_id(ctx.pool, principal.user_id)
    if row is None:
        raise NotFound("No such user.")
    return row


async def rename(ctx: Identity, principal: Principal, display_name: str) -> users.UserRow:
    """Change the display name (ProfileUpdated); a look-alike of another user's name is refused."""
    display_name = clean_display_name(display_name)

    async def work(conn: asyncpg.Connection) -> users.UserRow:
        user = await ctx.users.load(conn, str(principal.user_id))
        # Keeping one's own name is no claim: an old account may share its key with another (before key version 2).
        if user.display_name != display_name and await users.claim_display_name(
            conn, display_name, by_other_than=principal.user_id
        ):
            raise Conflict(NAME_TAKEN, field="display_name")
        await ctx.users.save(conn, user, user.rename(display_name), metadata_of(principal))
        await users.project(conn, user)
        row = await users.by_id(conn, principal.user_id)
        assert row is not None
        return row

    return await transact(ctx.pool, work)


async def _check_current_password(ctx: Identity, user_id: UUID, password: str) -> None:
    """401 when wrong; guesses are slowed like logins (a stolen access token must not brute-force the password)."""
    settings = ctx.settings
    limit = rate_limits.Delayed(f"current-password:{user_id}", settings.login_free_failures,
                                settings.login_max_delay_seconds)  # fmt: skip

    async def reserve(conn: asyncpg.Connection) -> int | None:
        return await rate_limits.take_with_delays(conn, [], [limit], window_seconds=settings.login_window_seconds)

    async def forget(conn: asyncpg.Connection) -> None:
        await rate_limits.clear(conn, limit.bucket)

    wait = await transact(ctx.pool, reserve)
    if wait is not None:
        raise RateLimited("Too many wrong current passwords; try again later.", retry_after=wait)
    stored = await users.password_hash(ctx.pool, user_id)
    try:
        ok = await ctx.hashing.verify(stored, password)
    except HashingBusy:
        await transact(ctx.pool, forget)
        raise
    if not ok:
        raise Unauthorized("The current password is not correct.", invalid_token=False)
    await transact(ctx.pool, forget)


async def change_password(
    ctx: Identity, principal: Principal, session_id: UUID | None, current_password: str, new_password: str
) -> None:
    """Replace the password (PasswordChanged), end every other session, tell the user by email."""
    await _check_current_password(ctx, principal.user_id, current_password)
    row = await profile(ctx, principal)
    check_password_policy(new_password, email=row.email, display_name=row.display_name, field="new_password")
    new_hash = await ctx.hashing.hash(new_password)

    async def work(conn: asyncpg.Connection) -> None:
        user = await ctx.users.load(conn, str(principal.user_id))
        metadata = metadata_of(principal)
        await ctx.users.save(conn, user, user.change_password(), metadata)
        await users.set_password_hash(conn, user.user_id, new_hash)
        await sessions.revoke_other_sessions(conn, user.user_id, session_id, "password changed")
        await send_account_email(
            conn, ctx.settings.mail_topic, user_id=user.user_id, template="password-changed", to=user.email,
            display_name=user.display_name, metadata=metadata,
        )  # fmt: skip

    await transact(ctx.pool, work)


async def request_email_change(ctx: Identity, principal: Principal, new_email: str, current_password: str) -> None:
    """Record EmailChangeRequested and send a link to the new address; the change happens when it is confirmed."""
    new_email = normalise_email(new_email, "new_email")
    await _check_current_password(ctx, principal.user_id, current_password)

    async def work(conn: asyncpg.Connection) -> None:
        if await users.email_taken(conn, new_email, by_other_than=principal.user_id):
            raise Conflict(EMAIL_TAKEN, field="new_email")
        user = await ctx.users.load(conn, str(principal.user_id))
        metadata = metadata_of(principal)
        await ctx.users.save(conn, user, user.request_email_change(new_email), metadata)
        await users.project(conn, user)
        await _send_confirmation(ctx, conn, user, "confirm-email-change", new_email, metadata)

    await transact(ctx.pool, work)


async def grant_role(ctx: Identity, admin: Principal, user_id: UUID, role: Role) -> None:
    """An admin sets a user's role (RoleGranted); every session of that user ends at once (tokens carry the role)."""

    async def work(conn: asyncpg.Connection) -> None:
        user = await ctx.users.load(conn, str(user_id))
        if not user.exists:
            raise NotFound("No such user.")
        events = user.grant_role(role, admin.user_id)
        await ctx.users.save(conn, user, events, metadata_of(admin))
        await users.project(conn, user)
        if events:
            await sessions.revoke_other_sessions(conn, user.user_id, None, ROLE_CHANGED)

    await transact(ctx.pool, work)


async def promote_to_admin(ctx: Identity, email: str) -> users.UserRow:
    """Make an existing, verified account an admin (create-admin --promote-existing).

    An unverified account is refused: whoever signed up with the address may not own it.
    """
    email = normalise_email(email)

    async def work(conn: asyncpg.Connection) -> users.UserRow:
        row = await users.by_email(conn, email)
        if row is None:
            raise NotFound("No account has this email address.")
        if not row.email_verified:
            raise Conflict("The account holding this address has not confirmed it; it cannot be promoted.")
        user = await ctx.users.load(conn, str(row.id))
        events = [] if user.role == "admin" else [RoleGranted(user_id=user.user_id, role="admin", granted_by=None)]
        await ctx.users.save(conn, user, events, metadata_for())
        await users.project(conn, user)
        if events:
            await sessions.revoke_other_sessions(conn, user.user_id, None, ROLE_CHANGED)
        promoted = await users.by_id(conn, user.user_id)
        assert promoted is not None
        return promoted

    return await transact(ctx.pool, work)
