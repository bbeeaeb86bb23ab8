"""The refresh cookie's Secure flag follows IDENTITY_REFRESH_COOKIE_SECURE (on unless turned off)."""

from __future__ import annotations

import pytest
from fastapi import Response

from identity.api.cookies import set_refresh_cookie
from identity.config import Settings


def cookie(settings: Settings) -> str:
    response = Response()
    set_refresh_cookie(response, settings, "tok")
    return response.headers["set-cookie"]


def test_the_cookie_is_secure_by_default() -> None:
    assert "; Secure;" in cookie(Settings(environment="test"))


def test_secure_can_be_turned_off_for_plain_http(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IDENTITY_REFRESH_COOKIE_SECURE", "false")
    header = cookie(Settings(environment="test"))
    assert "Secure" not in header
    assert header.startswith("casefold_refresh=tok; HttpOnly; SameSite=Strict;")
