"""HTTP routes of the identity service, under /api/identity (and one internal route for other services)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from fastapi import APIRouter, Response, status
from fastapi.responses import JSONResponse

from identity.adapters import sessions as session_store
from identity.api.deps import AdminCaller, ClientAddress, Ctx, CurrentCaller
from identity.api.schemas import (
    Credentials,
    EmailChange,
    EmailConfirmation,
    PasswordChange,
    ProfileUpdate,
    RefreshRequest,
    ResendConfirmation,
    RevokedToken,
    RevokedTokensRead,
    RoleGrant,
    TokenPairRead,
    UserCreate,
    UserRead,
)
from identity.app import accounts
from identity.app import sessions as session_commands
from identity.app.sessions import TokenPair

router = APIRouter(prefix="/api/identity", tags=["identity"])
internal = APIRouter(prefix="/internal/identity", tags=["internal"])


def _pair(pair: TokenPair) -> TokenPairRead:
    return TokenPairRead(access_token=pair.access_token, refresh_token=pair.refresh_token, expires_in=pair.expires_in)


@router.post("/users", status_code=status.HTTP_201_CREATED)
async def sign_up(body: UserCreate, ctx: Ctx, address: ClientAddress) -> UserRead:
    """Create an account; a confirmation link is emailed to the address."""
    row = await accounts.register(
        ctx, email=body.email, password=body.password, display_name=body.display_name,
        accept_terms=body.accept_terms, client_address=address,
    )  # fmt: skip
    return UserRead.of(row)


@router.post("/email-confirmations", status_code=status.HTTP_204_NO_CONTENT)
async def confirm_email(body: EmailConfirmation, ctx: Ctx) -> Response:
    """Confirm an email address (or an email change) with the token from the link."""
    await accounts.confirm(ctx, body.token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/email-confirmations/resend", status_code=status.HTTP_202_ACCEPTED)
async def resend_confirmation(body: ResendConfirmation, ctx: Ctx) -> Response:
    """Send a new confirmation link; the answer is the same whether or not the address has an account."""
    await accounts.resend_confirmation(ctx, body.email)
    return Response(status_code=status.HTTP_202_ACCEPTED)


@router.post("/sessions")
async def log_in(body: Credentials, ctx: Ctx, address: ClientAddress) -> TokenPairRead:
    """Log in: an access token (15 minutes) and a rotating refresh token."""
    return _pair(await session_commands.login(ctx, body.email, body.password, address))


@router.post("/sessions/refresh")
async def refresh_session(body: RefreshRequest, ctx: Ctx) -> TokenPairRead:
    """Exchange a refresh token for a new pair; reusing a spent one ends the session."""
    return _pair(await session_commands.refresh(ctx, body.refresh_token))


@router.delete("/sessions/current", status_code=status.HTTP_204_NO_CONTENT)
async def log_out(body: RefreshRequest, ctx: Ctx) -> Response:
    """Log out: the session's refresh and access tokens are revoked."""
    await session_commands.logout(ctx, body.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me")
async def read_me(ctx: Ctx, caller: CurrentCaller) -> UserRead:
    """The caller's profile."""
    return UserRead.of(await accounts.profile(ctx, caller.principal))


@router.patch("/me")
async def update_me(body: ProfileUpdate, ctx: Ctx, caller: CurrentCaller) -> UserRead:
    """Change the display name (unique, look-alikes included)."""
    return UserRead.of(await accounts.rename(ctx, caller.principal, body.display_name))


@router.post("/me/password", status_code=status.HTTP_204_NO_CONTENT)
async def change_password(body: PasswordChange, ctx: Ctx, caller: CurrentCaller) -> Response:
    """Change the password (needs the current one); every other session ends."""
    await accounts.change_password(ctx, caller.principal, caller.session_id, body.current_password, body.new_password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/me/email", status_code=status.HTTP_202_ACCEPTED)
async def change_email(body: EmailChange, ctx: Ctx, caller: CurrentCaller) -> Response:
    """Ask to change the email address; it changes once the link sent to the new address is used."""
    await accounts.request_email_change(ctx, caller.principal, body.new_email, body.current_password)
    return Response(status_code=status.HTTP_202_ACCEPTED)


@router.post("/users/{user_id}/roles", status_code=status.HTTP_204_NO_CONTENT)
async def grant_role(user_id: UUID, body: RoleGrant, ctx: Ctx, caller: AdminCaller) -> Response:
    """Set a user's role (administrators only); it shows in the user's next access token."""
    await accounts.grant_role(ctx, caller.principal, user_id, body.role)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/.well-known/jwks.json")
async def jwks(ctx: Ctx) -> JSONResponse:
    """The public keys that verify access tokens (the previous key stays during a rotation)."""
    body = await ctx.access_tokens.keyring.jwks()
    return JSONResponse(body, headers={"Cache-Control": "public, max-age=60"})


@internal.get("/revoked-tokens")
async def revoked_tokens(ctx: Ctx) -> RevokedTokensRead:
    """Access tokens revoked before they expired (logout, reuse, password change); poll it to refuse them."""
    rows = await session_store.revoked_access_tokens(ctx.pool, grace_seconds=60)
    return RevokedTokensRead(
        revoked=[RevokedToken(jti=jti, expires_at=exp.isoformat()) for jti, exp in rows],
        generated_at=datetime.now(UTC).isoformat(),
    )
