"""HTTP routes of the identity service, under /api/identity (and one internal route for other services)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Cookie, Query, Response, status
from fastapi.responses import JSONResponse

from casefold_platform.problems import Unauthorized
from identity.adapters import sessions as session_store
from identity.api.cookies import REFRESH_COOKIE, clear_refresh_cookie, set_refresh_cookie
from identity.api.deps import AdminCaller, ClientAddress, Ctx, CurrentCaller
from identity.api.openapi import problems
from identity.api.schemas import (
    AuditEntryRead,
    Credentials,
    DisplayNameAvailability,
    EmailChange,
    EmailConfirmation,
    PasswordChange,
    PasswordResetConfirm,
    PasswordResetRequest,
    ProfileUpdate,
    RefreshRequest,
    ResendConfirmation,
    RevokedToken,
    RevokedTokensRead,
    RoleGrant,
    TokenPairRead,
    UserCreate,
    UserListItem,
    UserPageRead,
    UserRead,
)
from identity.app import accounts, admin, names, password_resets
from identity.app import sessions as session_commands
from identity.app.sessions import TokenPair

router = APIRouter(prefix="/api/identity", tags=["identity"])
internal = APIRouter(prefix="/internal/identity", tags=["internal"])

RefreshCookie = Annotated[
    str | None, Cookie(alias=REFRESH_COOKIE, description="The refresh token, when the body carries none.")
]
NO_REFRESH_TOKEN = "No refresh token: send refresh_token in the body or the casefold_refresh cookie."  # noqa: S105 - a message, not a secret
SET_COOKIE = {
    "Set-Cookie": {
        "description": "casefold_refresh=<refresh token>; HttpOnly; Secure; SameSite=Strict; "
        "Path=/api/identity/sessions; Max-Age=<refresh lifetime>",
        "schema": {"type": "string"},
    }
}
# Routes that run argon2: their 503 also covers a full password-hashing queue (type ends password-hashing-busy).
HASH_BUSY = ("A dependency is unavailable, or too many password checks are running and the queue is full "
             "(type ends with password-hashing-busy); Retry-After says when to try again")  # fmt: skip
WRONG_PASSWORDS = "Too many wrong current passwords lately; Retry-After says when to try again (the wait grows)"
AUTHENTICATED = problems(401, d401="No valid access token (missing, expired, revoked or badly signed)")


def _pair(ctx: Ctx, response: Response, pair: TokenPair) -> TokenPairRead:
    set_refresh_cookie(response, ctx.settings, pair.refresh_token)
    return TokenPairRead(access_token=pair.access_token, refresh_token=pair.refresh_token, expires_in=pair.expires_in)


def _refresh_token(body: RefreshRequest | None, cookie: str | None) -> str:
    token = (body.refresh_token if body else None) or cookie
    if not token:
        raise Unauthorized(NO_REFRESH_TOKEN, invalid_token=False)
    return token


@router.post(
    "/users",
    status_code=status.HTTP_201_CREATED,
    responses=problems(409, 422, 429, d409="The email address or the display name (or a look-alike) is taken; "
                       "`field` names which", d429="Too many sign-ups from this client address", d503=HASH_BUSY),
)  # fmt: skip
async def sign_up(body: UserCreate, ctx: Ctx, address: ClientAddress) -> UserRead:
    """Create an account; a confirmation link is emailed to the address."""
    row = await accounts.register(
        ctx, email=body.email, password=body.password, display_name=body.display_name,
        accept_terms=body.accept_terms, client_address=address,
    )  # fmt: skip
    return UserRead.of(row)


@router.get(
    "/display-names/availability",
    responses=problems(422, 429, d422="display_name is missing or longer than 128 characters",
                       d429="Too many checks from this client address"),
)  # fmt: skip
async def display_name_availability(
    ctx: Ctx,
    address: ClientAddress,
    display_name: Annotated[str, Query(min_length=1, max_length=128, description="The name to check.")],
) -> DisplayNameAvailability:
    """Whether sign-up would accept this display name now (same rules, look-alikes included), and if not why."""
    answer = await names.availability(ctx, display_name, address)
    return DisplayNameAvailability(display_name=display_name, available=answer.available, reason=answer.reason)


@router.post(
    "/email-confirmations",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(400, 409, 422, d400="The link is invalid, already used or expired (or the body is not JSON)",
                       d409="The link is for an address the account no longer uses, or the address was taken"),
)  # fmt: skip
async def confirm_email(body: EmailConfirmation, ctx: Ctx) -> Response:
    """Confirm an email address (or an email change) with the token from the link."""
    await accounts.confirm(ctx, body.token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/email-confirmations/resend",
    status_code=status.HTTP_202_ACCEPTED,
    response_class=Response,  # an empty body: documented without content, not as JSON
    responses=problems(422),
)
async def resend_confirmation(body: ResendConfirmation, ctx: Ctx) -> Response:
    """Send a new confirmation link; the answer is the same whether or not the address has an account."""
    await accounts.resend_confirmation(ctx, body.email)
    return Response(status_code=status.HTTP_202_ACCEPTED)


@router.post(
    "/password-resets",
    status_code=status.HTTP_202_ACCEPTED,
    response_class=Response,
    responses=problems(422, 429, d422="The email address is malformed",
                       d429="Too many requests for this address or from this client address"),
)  # fmt: skip
async def request_password_reset(body: PasswordResetRequest, ctx: Ctx, address: ClientAddress) -> Response:
    """Email a single-use password reset link; the answer is the same whether or not the address has an account."""
    await password_resets.request_reset(ctx, body.email, address)
    return Response(status_code=status.HTTP_202_ACCEPTED)


@router.post(
    "/password-resets/confirm",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(400, 422, d400="The reset link is invalid, used, superseded or expired "
                       "(type ends with invalid-reset-token); ask for a new one",
                       d422="The new password breaks the password policy (errors[] names body.new_password)",
                       d503=HASH_BUSY),
)  # fmt: skip
async def confirm_password_reset(body: PasswordResetConfirm, ctx: Ctx) -> Response:
    """Set a new password with the token from the reset link; every session of the account ends."""
    await password_resets.confirm_reset(ctx, body.token, body.new_password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/sessions",
    responses={200: {"headers": SET_COOKIE}, **problems(401, 422, 429, d401="Wrong email address or password",
               d429="Too many failed logins for this account or from this client address", d503=HASH_BUSY)},
)  # fmt: skip
async def log_in(body: Credentials, ctx: Ctx, address: ClientAddress, response: Response) -> TokenPairRead:
    """Log in: an access token (15 minutes) and a rotating refresh token (also set as an HttpOnly cookie)."""
    return _pair(ctx, response, await session_commands.login(ctx, body.email, body.password, address))


@router.post(
    "/sessions/refresh",
    responses={200: {"headers": SET_COOKIE}, **problems(401, 422, d401="No refresh token, or it is invalid, "
               "expired, revoked or spent (a spent one also ends its session)")},
)  # fmt: skip
async def refresh_session(
    ctx: Ctx, response: Response, cookie: RefreshCookie = None, body: RefreshRequest | None = None
) -> TokenPairRead:
    """Exchange a refresh token (body, else cookie) for a new pair; reusing a spent one ends the session."""
    return _pair(ctx, response, await session_commands.refresh(ctx, _refresh_token(body, cookie)))


@router.delete(
    "/sessions/current",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={204: {"headers": SET_COOKIE, "description": "Logged out (also for an unknown token); the cookie is "
               "cleared"}, **problems(401, 422, d401="No refresh token in the body or the cookie")},
)  # fmt: skip
async def log_out(ctx: Ctx, cookie: RefreshCookie = None, body: RefreshRequest | None = None) -> Response:
    """Log out: the session's refresh and access tokens are revoked and the refresh cookie is cleared."""
    await session_commands.logout(ctx, _refresh_token(body, cookie))
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_refresh_cookie(response, ctx.settings)
    return response


@router.get("/me", responses=problems(401, 404, d404="The account no longer exists"))
async def read_me(ctx: Ctx, caller: CurrentCaller) -> UserRead:
    """The caller's profile."""
    return UserRead.of(await accounts.profile(ctx, caller.principal))


@router.patch("/me", responses={**AUTHENTICATED, **problems(409, 422, d409="The display name (or a look-alike) is "
              "taken")})  # fmt: skip
async def update_me(body: ProfileUpdate, ctx: Ctx, caller: CurrentCaller) -> UserRead:
    """Change the display name (unique, look-alikes included)."""
    return UserRead.of(await accounts.rename(ctx, caller.principal, body.display_name))


@router.post(
    "/me/password",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(401, 422, 429, d401="No valid access token, or the current password is wrong",
                       d422="The new password breaks the password policy", d429=WRONG_PASSWORDS, d503=HASH_BUSY),
)  # fmt: skip
async def change_password(body: PasswordChange, ctx: Ctx, caller: CurrentCaller) -> Response:
    """Change the password (needs the current one); every other session ends."""
    await accounts.change_password(ctx, caller.principal, caller.session_id, body.current_password, body.new_password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/me/email",
    status_code=status.HTTP_202_ACCEPTED,
    response_class=Response,
    responses=problems(401, 409, 422, 429, d401="No valid access token, or the current password is wrong",
                       d409="The address is taken, or it is already yours", d429=WRONG_PASSWORDS, d503=HASH_BUSY),
)  # fmt: skip
async def change_email(body: EmailChange, ctx: Ctx, caller: CurrentCaller) -> Response:
    """Ask to change the email address; it changes once the link sent to the new address is used."""
    await accounts.request_email_change(ctx, caller.principal, body.new_email, body.current_password)
    return Response(status_code=status.HTTP_202_ACCEPTED)


@router.post(
    "/users/{user_id}/roles",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(401, 403, 404, 409, 422, d403="The caller is not an administrator",
                       d404="No such user", d409="Administrators cannot change their own role"),
)  # fmt: skip
async def grant_role(user_id: UUID, body: RoleGrant, ctx: Ctx, caller: AdminCaller) -> Response:
    """Set a user's role (administrators only); it shows in the user's next access token."""
    await accounts.grant_role(ctx, caller.principal, user_id, body.role)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


ADMINS_ONLY = "The caller is not an administrator"


@router.get(
    "/users",
    responses=problems(401, 403, 422, d403=ADMINS_ONLY, d422="q longer than 320 characters, limit outside 1-100, or a "
                       "cursor this list did not give out"),
)  # fmt: skip
async def list_users(
    ctx: Ctx,
    _: AdminCaller,
    q: Annotated[str | None, Query(max_length=320, description="Part of an email address or display name.")] = None,
    cursor: Annotated[str | None, Query(max_length=512, description="next_cursor of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> UserPageRead:
    """List users newest first, or search them by email or display name (administrators only)."""
    page = await admin.list_users(ctx, q, cursor, limit)
    return UserPageRead(items=[UserListItem.of(u) for u in page.items], next_cursor=page.next_cursor)


@router.post(
    "/users/{user_id}/disable",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(401, 403, 404, 409, 422, d403=ADMINS_ONLY, d404="No such user",
                       d409="Administrators cannot disable their own account", d422="user_id is not a UUID"),
)  # fmt: skip
async def disable_user(user_id: UUID, ctx: Ctx, caller: AdminCaller) -> Response:
    """Disable an account: every session ends at once and logging in is refused (administrators only)."""
    await admin.disable(ctx, caller.principal, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/users/{user_id}/enable",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(401, 403, 404, 422, d403=ADMINS_ONLY, d404="No such user", d422="user_id is not a UUID"),
)  # fmt: skip
async def enable_user(user_id: UUID, ctx: Ctx, caller: AdminCaller) -> Response:
    """Enable a disabled account again so that its owner may log in (administrators only)."""
    await admin.enable(ctx, caller.principal, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/users/{user_id}/audit",
    responses=problems(401, 403, 404, 422, d403=ADMINS_ONLY, d404="No such user", d422="user_id is not a UUID"),
)  # fmt: skip
async def user_audit(user_id: UUID, ctx: Ctx, _: AdminCaller) -> list[AuditEntryRead]:
    """A user's role changes, disable/enable, email changes and password changes or resets, oldest first."""
    return [AuditEntryRead.of(entry) for entry in await admin.audit(ctx, user_id)]


@router.get("/.well-known/jwks.json", responses=problems())
async def jwks(ctx: Ctx) -> JSONResponse:
    """The public keys that verify access tokens (the previous key stays during a rotation)."""
    body = await ctx.access_tokens.keyring.jwks()
    return JSONResponse(body, headers={"Cache-Control": "public, max-age=60"})


@internal.get("/revoked-tokens", responses=problems())
async def revoked_tokens(ctx: Ctx) -> RevokedTokensRead:
    """Access tokens revoked before they expired (logout, reuse, password change); poll it to refuse them."""
    rows = await session_store.revoked_access_tokens(ctx.pool, grace_seconds=60)
    return RevokedTokensRead(
        revoked=[RevokedToken(jti=jti, expires_at=exp.isoformat()) for jti, exp in rows],
        generated_at=datetime.now(UTC).isoformat(),
    )
