"""Through the gateway and the inbox: a password reset by its emailed link, the refresh cookie, name checks."""

from __future__ import annotations

import re
from urllib.parse import unquote

import httpx
import jwt
import pytest
from e2e.e2e_steps import mail_to, new_account

pytestmark = pytest.mark.integration

SESSIONS = "/api/identity/sessions"


def reset_token(message: dict[str, object]) -> str:
    match = re.search(r"/reset-password\?token=([^\s&\"'<>]+)", str(message["text"]))
    assert match, f"no reset link in {message['subject']!r}"
    return unquote(match.group(1))


def refresh_cookie(response: httpx.Response) -> str:
    [header] = [h for h in response.headers.get_list("set-cookie") if h.startswith("casefold_refresh=")]
    for attribute in ("HttpOnly", "Secure", "SameSite=Strict", "Path=/api/identity/sessions"):
        assert attribute in header.split("; ")
    return header.split(";", 1)[0].removeprefix("casefold_refresh=")


async def test_a_customer_resets_a_forgotten_password_and_stays_logged_in_by_cookie(
    gateway: httpx.AsyncClient, inbox: httpx.AsyncClient
) -> None:
    account = new_account("forgetful")
    free = await gateway.get("/api/identity/display-names/availability", params={"display_name": account.display_name})
    assert free.json() == {"display_name": account.display_name, "available": True, "reason": None}
    signed_up = await gateway.post(
        "/api/identity/users",
        json={"email": account.email, "password": account.password, "display_name": account.display_name,
              "accept_terms": True},
    )  # fmt: skip
    assert signed_up.status_code == 201, signed_up.text
    taken = await gateway.get("/api/identity/display-names/availability", params={"display_name": account.display_name})
    assert taken.json()["available"] is False

    assert (await gateway.post("/api/identity/password-resets", json={"email": account.email})).status_code == 202
    mail = await mail_to(inbox, account.email, lambda m: "Reset your password" in m["subject"], "the reset mail")
    new_password = account.password + " reset"
    done = await gateway.post(
        "/api/identity/password-resets/confirm", json={"token": reset_token(mail), "new_password": new_password}
    )
    assert done.status_code == 204, done.text
    await mail_to(inbox, account.email, lambda m: "Your password was reset" in m["subject"], "the reset notice")

    login = await gateway.post(SESSIONS, json={"email": account.email, "password": new_password})
    assert login.status_code == 200, login.text
    claims = jwt.decode(login.json()["access_token"], options={"verify_signature": False})
    assert claims["email_verified"] is True, "the reset link proved the address"
    cookie = refresh_cookie(login)

    # The portal's calls: no body and no bearer token, only the cookie the browser sends to /api/identity/sessions.
    refreshed = await gateway.post(f"{SESSIONS}/refresh", headers={"Cookie": f"casefold_refresh={cookie}"})
    assert refreshed.status_code == 200, refreshed.text
    rotated = refresh_cookie(refreshed)
    assert rotated != cookie
    logout = await gateway.delete(f"{SESSIONS}/current", headers={"Cookie": f"casefold_refresh={rotated}"})
    assert logout.status_code == 204, logout.text
    assert "Max-Age=0" in logout.headers["set-cookie"]
    after = await gateway.post(f"{SESSIONS}/refresh", headers={"Cookie": f"casefold_refresh={rotated}"})
    assert after.status_code == 401
