"""Annotated dependencies of the identity routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from casefold_platform.problems import Forbidden, Unauthorized
from identity.app.common import Identity
from identity.app.tokens import Caller
from identity.domain.addresses import address_key


def identity(request: Request) -> Identity:
    ctx: Identity = request.app.state.identity
    return ctx


Ctx = Annotated[Identity, Depends(identity)]

_bearer = HTTPBearer(auto_error=False, description="An access token from POST /api/identity/sessions.")


async def caller(ctx: Ctx, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Caller:
    """The verified, unrevoked caller (identity checks its own revocations on every request)."""
    if credentials is None or not credentials.credentials:
        raise Unauthorized("An access token is required.", invalid_token=False)
    return await ctx.access_tokens.verify(credentials.credentials)


CurrentCaller = Annotated[Caller, Depends(caller)]


async def admin(current: CurrentCaller) -> Caller:
    if not current.principal.is_admin:
        raise Forbidden("This action is for administrators.")
    return current


AdminCaller = Annotated[Caller, Depends(admin)]


def client_address(request: Request, ctx: Ctx) -> str:
    """The client's rate-limit key (IPv6 by /64); X-Forwarded-For is believed only behind a trusted gateway."""
    if ctx.settings.trust_forwarded_for:
        forwarded = request.headers.get("x-forwarded-for", "")
        # The gateway appends the address it saw: the last entry is the only one not chosen by the client.
        last = forwarded.split(",")[-1].strip()
        if last:
            return address_key(last)
    return address_key(request.client.host) if request.client else "unknown"


ClientAddress = Annotated[str, Depends(client_address)]
