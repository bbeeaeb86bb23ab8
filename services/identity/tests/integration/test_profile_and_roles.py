"""Profile changes, roles, and who may call what."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx
import jwt
import pytest
from identity_builders import (
    STRONG_PASSWORD,
    bearer,
    create_admin,
    latest_token,
    log_in,
    mail_commands,
    run_command,
    sign_up,
    unique_person,
)

from identity.config import Settings

pytestmark = pytest.mark.integration

NEW_PASSWORD = "a brand new passphrase 77"


def claims(pair: dict[str, str]) -> dict[str, object]:
    decoded: dict[str, object] = jwt.decode(pair["access_token"], options={"verify_signature": False})
    return decoded


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("GET", "/api/identity/me", None),
        ("PATCH", "/api/identity/me", {"display_name": "Whoever"}),
        ("POST", "/api/identity/me/password", {"current_password": "x", "new_password": "y"}),
        ("POST", "/api/identity/me/email", {"new_email": "x@example.com", "current_password": "x"}),
        ("POST", f"/api/identity/users/{uuid.uuid4()}/roles", {"role": "agent"}),
    ],
)
async def test_authenticated_endpoints_refuse_anonymous_and_forged_callers(
    client: httpx.AsyncClient, method: str, path: str, payload: dict[str, str] | None
) -> None:
    anonymous = await client.request(method, path, json=payload)
    assert anonymous.status_code == 401
    forged = await client.request(method, path, json=payload, headers=bearer("eyJhbGciOiJub25lIn0.e30."))
    assert forged.status_code == 401


async def test_renaming_is_unique_and_shows_in_the_next_token(client: httpx.AsyncClient) -> None:
    taken = await sign_up(client)
    user = await sign_up(client)
    pair = await log_in(client, user["email"])
    clash = await client.patch(
        "/api/identity/me", json={"display_name": taken["display_name"].upper()}, headers=bearer(pair["access_token"])
    )
    assert clash.status_code == 409
    _, new_name = unique_person()
    renamed = await client.patch(
        "/api/identity/me", json={"display_name": new_name}, headers=bearer(pair["access_token"])
    )
    assert renamed.status_code == 200
    assert renamed.json()["display_name"] == new_name
    refreshed = (
        await client.post("/api/identity/sessions/refresh", json={"refresh_token": pair["refresh_token"]})
    ).json()
    assert claims(refreshed)["display_name"] == new_name


async def test_changing_the_password_needs_the_current_one_and_ends_other_sessions(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    user = await sign_up(client)
    here = await log_in(client, user["email"])
    elsewhere = await log_in(client, user["email"])
    wrong = await client.post(
        "/api/identity/me/password",
        json={"current_password": "nope nope nope", "new_password": NEW_PASSWORD},
        headers=bearer(here["access_token"]),
    )
    assert wrong.status_code == 401
    weak = await client.post(
        "/api/identity/me/password",
        json={"current_password": STRONG_PASSWORD, "new_password": "password1234"},
        headers=bearer(here["access_token"]),
    )
    assert weak.status_code == 422
    changed = await client.post(
        "/api/identity/me/password",
        json={"current_password": STRONG_PASSWORD, "new_password": NEW_PASSWORD},
        headers=bearer(here["access_token"]),
    )
    assert changed.status_code == 204
    assert (await client.get("/api/identity/me", headers=bearer(here["access_token"]))).status_code == 200
    assert (await client.get("/api/identity/me", headers=bearer(elsewhere["access_token"]))).status_code == 401
    gone = await client.post("/api/identity/sessions/refresh", json={"refresh_token": elsewhere["refresh_token"]})
    assert gone.status_code == 401
    assert (
        await client.post("/api/identity/sessions", json={"email": user["email"], "password": STRONG_PASSWORD})
    ).status_code == 401
    await log_in(client, user["email"], NEW_PASSWORD)
    templates = [
        c["payload"]["template"] for c in await mail_commands(settings.database_url, settings.mail_topic, user["id"])
    ]
    assert templates[-1] == "password-changed"


async def ask_email_change(
    client: httpx.AsyncClient, pair: dict[str, str], new_email: str, password: str = STRONG_PASSWORD
) -> httpx.Response:
    return await client.post(
        "/api/identity/me/email",
        json={"new_email": new_email, "current_password": password},
        headers=bearer(pair["access_token"]),
    )


async def test_changing_the_email_takes_effect_once_the_new_address_confirms(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    user = await sign_up(client)
    pair = await log_in(client, user["email"])
    new_email, _ = unique_person()
    assert (await ask_email_change(client, pair, new_email, "wrong wrong wrong")).status_code == 401
    assert (await ask_email_change(client, pair, new_email)).status_code == 202
    me = (await client.get("/api/identity/me", headers=bearer(pair["access_token"]))).json()
    assert (me["email"], me["pending_email"]) == (user["email"], new_email)
    [command] = [c for c in await mail_commands(settings.database_url, settings.mail_topic, user["id"])
                 if c["payload"]["template"] == "confirm-email-change"]  # fmt: skip
    assert command["payload"]["to"] == new_email
    token = await latest_token(settings.database_url, settings.mail_topic, user["id"], "confirm-email-change")
    assert (await client.post("/api/identity/email-confirmations", json={"token": token})).status_code == 204
    me = (await client.get("/api/identity/me", headers=bearer(pair["access_token"]))).json()
    assert (me["email"], me["pending_email"], me["email_verified"]) == (new_email, None, True)
    await log_in(client, new_email)


async def test_an_email_change_is_told_to_the_old_address_once_it_takes_effect(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    user = await sign_up(client)
    pair = await log_in(client, user["email"])
    new_email, _ = unique_person()
    assert (await ask_email_change(client, pair, new_email)).status_code == 202

    def notices(commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [c["payload"] for c in commands if c["payload"]["template"] == "email-changed-notice"]

    assert notices(await mail_commands(settings.database_url, settings.mail_topic, user["id"])) == []
    token = await latest_token(settings.database_url, settings.mail_topic, user["id"], "confirm-email-change")
    assert (await client.post("/api/identity/email-confirmations", json={"token": token})).status_code == 204
    [notice] = notices(await mail_commands(settings.database_url, settings.mail_topic, user["id"]))
    assert (notice["to"], notice["display_name"], notice["action_url"]) == (user["email"], user["display_name"], None)


async def test_an_admin_grants_agent_and_it_shows_in_the_next_token(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    admin_email, _ = await create_admin(settings)
    admin = await log_in(client, admin_email)
    assert claims(admin)["role"] == "admin"
    user = await sign_up(client)
    pair = await log_in(client, user["email"])

    by_customer = await client.post(
        f"/api/identity/users/{user['id']}/roles", json={"role": "agent"}, headers=bearer(pair["access_token"])
    )
    assert by_customer.status_code == 403
    unknown = await client.post(
        f"/api/identity/users/{uuid.uuid4()}/roles", json={"role": "agent"}, headers=bearer(admin["access_token"])
    )
    assert unknown.status_code == 404
    bad_role = await client.post(
        f"/api/identity/users/{user['id']}/roles", json={"role": "root"}, headers=bearer(admin["access_token"])
    )
    assert bad_role.status_code == 422
    granted = await client.post(
        f"/api/identity/users/{user['id']}/roles", json={"role": "agent"}, headers=bearer(admin["access_token"])
    )
    assert granted.status_code == 204
    assert claims(await log_in(client, user["email"]))["role"] == "agent"


async def test_a_role_change_ends_every_session_of_the_user_at_once(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    admin_email, _ = await create_admin(settings)
    admin = await log_in(client, admin_email)
    user = await sign_up(client)
    sessions = [await log_in(client, user["email"]) for _ in range(2)]
    for role in ("agent", "customer"):
        granted = await client.post(
            f"/api/identity/users/{user['id']}/roles", json={"role": role}, headers=bearer(admin["access_token"])
        )
        assert granted.status_code == 204
        revoked = (await client.get("/internal/identity/revoked-tokens")).json()["revoked"]
        for pair in sessions:
            assert claims(pair)["jti"] in {r["jti"] for r in revoked}
            assert (await client.get("/api/identity/me", headers=bearer(pair["access_token"]))).status_code == 401
            again = await client.post("/api/identity/sessions/refresh", json={"refresh_token": pair["refresh_token"]})
            assert again.status_code == 401
        fresh = await log_in(client, user["email"])
        assert claims(fresh)["role"] == role
        sessions = [fresh]
    assert (await client.get("/api/identity/me", headers=bearer(admin["access_token"]))).status_code == 200


async def test_create_admin_makes_a_new_confirmed_admin_with_the_given_password(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    email, name = unique_person()
    code, output = await run_command(
        settings, "create-admin", "--email", email, "--display-name", name, IDENTITY_ADMIN_PASSWORD=NEW_PASSWORD
    )
    assert code == 0, output
    pair = await log_in(client, email, NEW_PASSWORD)
    assert (claims(pair)["role"], claims(pair)["email_verified"]) == ("admin", True)


async def test_create_admin_never_promotes_an_unverified_account_that_squats_the_address(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    squatter = await sign_up(client)
    for flags in ([], ["--promote-existing"]):
        code, output = await run_command(
            settings, "create-admin", "--email", squatter["email"], "--display-name", "Someone Else", *flags,
            IDENTITY_ADMIN_PASSWORD=NEW_PASSWORD,
        )  # fmt: skip
        assert code == 2, output
        assert "never confirmed" in output
    assert claims(await log_in(client, squatter["email"]))["role"] == "customer"
    refused = await client.post("/api/identity/sessions", json={"email": squatter["email"], "password": NEW_PASSWORD})
    assert refused.status_code == 401


async def test_create_admin_promotes_a_verified_account_only_with_the_flag_and_says_the_password_is_unused(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    user = await sign_up(client)
    token = await latest_token(settings.database_url, settings.mail_topic, user["id"])
    assert (await client.post("/api/identity/email-confirmations", json={"token": token})).status_code == 204
    args = ("create-admin", "--email", user["email"], "--display-name", "Someone Else")
    code, output = await run_command(settings, *args, IDENTITY_ADMIN_PASSWORD=NEW_PASSWORD)
    assert code == 2, output
    assert "--promote-existing" in output
    assert claims(await log_in(client, user["email"]))["role"] == "customer"

    code, output = await run_command(settings, *args, "--promote-existing", IDENTITY_ADMIN_PASSWORD=NEW_PASSWORD)
    assert code == 0, output
    assert "IDENTITY_ADMIN_PASSWORD was NOT used" in output
    assert claims(await log_in(client, user["email"]))["role"] == "admin"
    unused = await client.post("/api/identity/sessions", json={"email": user["email"], "password": NEW_PASSWORD})
    assert unused.status_code == 401


async def test_the_read_model_is_rebuilt_from_the_event_store(client: httpx.AsyncClient, settings: Settings) -> None:
    user = await sign_up(client)
    pair = await log_in(client, user["email"])
    _, new_name = unique_person()
    await client.patch("/api/identity/me", json={"display_name": new_name}, headers=bearer(pair["access_token"]))
    conn = await asyncpg.connect(settings.database_url)
    try:
        await conn.execute(
            "UPDATE users SET display_name = 'garbled', display_key = $2, role = 'admin' WHERE id = $1",
            uuid.UUID(user["id"]),
            uuid.uuid4().hex,
        )
    finally:
        await conn.close()
    code, output = await run_command(settings, "rebuild-read-model")
    assert code == 0, output
    me = (await client.get("/api/identity/me", headers=bearer(pair["access_token"]))).json()
    assert (me["display_name"], me["role"]) == (new_name, "customer")
