"""Password reset: a uniform, rate-limited request; a single-use, expiring link; every session ends after it."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import jwt
import pytest
import pytest_asyncio
from identity_builders import (
    STRONG_PASSWORD,
    bearer,
    fresh_failures,
    latest_token,
    log_in,
    mail_commands,
    settings_for,
    sign_up,
    unique_person,
)

from identity.config import Settings

pytestmark = pytest.mark.integration

REQUEST = "/api/identity/password-resets"
CONFIRM = "/api/identity/password-resets/confirm"
NEW_PASSWORD = "a reset passphrase 31 ok"


_ADDRESSES = itertools.count(1)


def from_address() -> dict[str, str]:
    """A client address of the request's own (the module's server trusts X-Forwarded-For and reads the last one),
    never seen before in this run, so buckets never mix (random ones collided now and then)."""
    n = next(_ADDRESSES)
    return {"X-Forwarded-For": f"192.0.2.7, 10.{n // 250 % 250}.{n % 250}.1"}


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def settings(database: str) -> Settings:
    return settings_for(database, trust_forwarded_for=True)


async def reset_mails(settings: Settings, user_id: str, template: str = "password-reset") -> list[dict[str, Any]]:
    commands = await mail_commands(settings.database_url, settings.mail_topic, user_id)
    return [c["payload"] for c in commands if c["payload"]["template"] == template]


async def ask(client: httpx.AsyncClient, email: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return await client.post(REQUEST, json={"email": email}, headers=headers or from_address())


async def test_the_answer_is_the_same_whether_or_not_the_address_has_an_account(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    user = await sign_up(client)
    known = await ask(client, user["email"].upper())
    unknown = await ask(client, unique_person()[0])
    assert (known.status_code, known.content) == (unknown.status_code, unknown.content) == (202, b"")
    [mail] = await reset_mails(settings, user["id"])
    assert mail["to"] == user["email"]
    assert mail["action_url"].startswith(f"{settings.public_url}/reset-password?token=")
    expires = datetime.fromisoformat(mail["expires_at"])
    assert abs(expires - datetime.now(UTC) - timedelta(seconds=settings.password_reset_seconds)) < timedelta(seconds=30)


async def test_a_reset_sets_the_password_ends_every_session_and_sends_a_notice(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    user = await sign_up(client)
    sessions = [await log_in(client, user["email"]) for _ in range(2)]
    await ask(client, user["email"])
    token = await latest_token(settings.database_url, settings.mail_topic, user["id"], "password-reset")

    done = await client.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD})
    assert done.status_code == 204, done.text
    revoked = {e["jti"] for e in (await client.get("/internal/identity/revoked-tokens")).json()["revoked"]}
    for pair in sessions:
        assert jwt.decode(pair["access_token"], options={"verify_signature": False})["jti"] in revoked
        assert (await client.get("/api/identity/me", headers=bearer(pair["access_token"]))).status_code == 401
        refresh = await client.post("/api/identity/sessions/refresh", json={"refresh_token": pair["refresh_token"]})
        assert refresh.status_code == 401
    old = await client.post("/api/identity/sessions", json={"email": user["email"], "password": STRONG_PASSWORD})
    assert old.status_code == 401
    await log_in(client, user["email"], NEW_PASSWORD)
    [notice] = await reset_mails(settings, user["id"], "password-reset-notice")
    assert notice["to"] == user["email"]
    assert notice["action_url"] is None

    again = await client.post(CONFIRM, json={"token": token, "new_password": "yet another passphrase 8"})
    assert again.status_code == 400
    assert again.json()["type"].endswith("invalid-reset-token")
    assert "ask for a new one" in again.json()["detail"]


async def test_a_new_request_supersedes_the_older_link(client: httpx.AsyncClient, settings: Settings) -> None:
    user = await sign_up(client)
    await ask(client, user["email"])
    older = await latest_token(settings.database_url, settings.mail_topic, user["id"], "password-reset")
    await ask(client, user["email"])
    newer = await latest_token(settings.database_url, settings.mail_topic, user["id"], "password-reset")
    assert older != newer
    stale = await client.post(CONFIRM, json={"token": older, "new_password": NEW_PASSWORD})
    assert stale.status_code == 400
    assert (await client.post(CONFIRM, json={"token": newer, "new_password": NEW_PASSWORD})).status_code == 204


async def test_an_expired_or_unknown_link_is_refused(client: httpx.AsyncClient, settings: Settings) -> None:
    user = await sign_up(client)
    await ask(client, user["email"])
    token = await latest_token(settings.database_url, settings.mail_topic, user["id"], "password-reset")
    conn = await asyncpg.connect(settings.database_url)
    try:
        # The clock is the database's: age the token past its expiry instead of waiting an hour.
        await conn.execute(
            "UPDATE password_reset_tokens SET expires_at = now() - interval '1 second' WHERE user_id = $1::uuid",
            user["id"],
        )
    finally:
        await conn.close()
    for candidate in (token, "no-such-token", "garbled/token!"):
        refused = await client.post(CONFIRM, json={"token": candidate, "new_password": NEW_PASSWORD})
        assert refused.status_code == 400, candidate
        assert refused.json()["type"].endswith("invalid-reset-token")
    await log_in(client, user["email"])


async def test_a_weak_password_is_422_and_leaves_the_link_usable(client: httpx.AsyncClient, settings: Settings) -> None:
    user = await sign_up(client)
    await ask(client, user["email"])
    token = await latest_token(settings.database_url, settings.mail_topic, user["id"], "password-reset")
    for weak in ("short", "password123456", user["display_name"] + " 2024!"):
        refused = await client.post(CONFIRM, json={"token": token, "new_password": weak})
        assert refused.status_code == 422
        assert [e["field"] for e in refused.json()["errors"]] == ["body.new_password"]
        assert weak not in refused.text
    assert (await client.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD})).status_code == 204


async def test_a_reset_confirms_an_unconfirmed_address(client: httpx.AsyncClient, settings: Settings) -> None:
    user = await sign_up(client)
    assert user["email_verified"] is False
    await ask(client, user["email"])
    token = await latest_token(settings.database_url, settings.mail_topic, user["id"], "password-reset")
    assert (await client.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD})).status_code == 204
    pair = await log_in(client, user["email"], NEW_PASSWORD)
    assert jwt.decode(pair["access_token"], options={"verify_signature": False})["email_verified"] is True
    conn = await asyncpg.connect(settings.database_url)
    try:
        types = [r["event_type"] for r in await conn.fetch(
            "SELECT event_type FROM events WHERE stream_id = $1 ORDER BY stream_version", user["id"])]  # fmt: skip
    finally:
        await conn.close()
    assert types == ["UserRegistered", "EmailConfirmed", "PasswordChanged"]


async def test_a_reset_lifts_the_failed_login_lockout(client: httpx.AsyncClient, settings: Settings) -> None:
    user = await sign_up(client)
    for _ in range(settings.login_free_failures):
        await client.post("/api/identity/sessions", json={"email": user["email"], "password": "wrong guess 123456"})
    await fresh_failures(settings)
    locked = await client.post("/api/identity/sessions", json={"email": user["email"], "password": STRONG_PASSWORD})
    assert locked.status_code == 429
    await ask(client, user["email"])
    token = await latest_token(settings.database_url, settings.mail_topic, user["id"], "password-reset")
    assert (await client.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD})).status_code == 204
    await log_in(client, user["email"], NEW_PASSWORD)


async def test_requests_are_limited_per_email_whether_or_not_it_has_an_account(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    user = await sign_up(client)
    for email in (user["email"], unique_person()[0]):
        answers = [await ask(client, email) for _ in range(settings.password_resets_per_email_per_hour + 1)]
        assert [a.status_code for a in answers][-2:] == [202, 429]
        assert int(answers[-1].headers["retry-after"]) > 0
        assert answers[-1].headers["content-type"] == "application/problem+json"
    assert len(await reset_mails(settings, user["id"])) == settings.password_resets_per_email_per_hour


async def test_requests_are_limited_per_client_address(client: httpx.AsyncClient, settings: Settings) -> None:
    here = from_address()
    limit = settings.password_resets_per_address_per_hour
    answers = [await ask(client, unique_person()[0], here) for _ in range(limit + 1)]
    assert [a.status_code for a in answers] == [202] * limit + [429]
    assert (await ask(client, unique_person()[0])).status_code == 202, "the limit spilled over to another address"


async def test_a_malformed_address_is_422(client: httpx.AsyncClient) -> None:
    response = await ask(client, "not-an-address")
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["body.email"]
