"""The refresh-token cookie: HttpOnly (page scripts cannot read it), sent only to the session routes."""

from __future__ import annotations

from fastapi import Response

from identity.config import Settings

REFRESH_COOKIE = "casefold_refresh"
REFRESH_COOKIE_PATH = "/api/identity/sessions"
DAY = 24 * 3600


def _cookie(settings: Settings, value: str, max_age: int) -> str:
    # Written by hand: Starlette's set_cookie spells SameSite in lower case, and the contract fixes the header.
    secure = " Secure;" if settings.refresh_cookie_secure else ""
    return f"{REFRESH_COOKIE}={value}; HttpOnly;{secure} SameSite=Strict; Path={REFRESH_COOKIE_PATH}; Max-Age={max_age}"


def set_refresh_cookie(response: Response, settings: Settings, refresh_token: str) -> None:
    response.headers.append("Set-Cookie", _cookie(settings, refresh_token, settings.refresh_token_days * DAY))


def clear_refresh_cookie(response: Response, settings: Settings) -> None:
    response.headers.append("Set-Cookie", _cookie(settings, "", 0))
