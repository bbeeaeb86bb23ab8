"""User administration: list and search, disable and enable (sessions end at once, login refused), the audit trail,
and who may call each route."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
from identity_builders import STRONG_PASSWORD, bearer, create_admin, latest_token, log_in, sign_up

from identity.config import Settings

pytestmark = pytest.mark.integration

NEW_PASSWORD = "a brand new passphrase 77"
USERS = "/api/identity/users"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def staff(base_url: str, settings: Settings) -> dict[str, Any]:
    """An admin (from the command line), an agent (granted by the admin) and a customer, each logged in."""
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        admin_email, _ = await create_admin(settings)
        admin = await log_in(client, admin_email)
        me = (await client.get("/api/identity/me", headers=bearer(admin["access_token"]))).json()
        agent, customer = await sign_up(client), await sign_up(client)
        granted = await client.post(f"{USERS}/{agent['id']}/roles", json={"role": "agent"},
                                    headers=bearer(admin["access_token"]))  # fmt: skip
        assert granted.status_code == 204, granted.text
        return {
            "admin_id": me["id"],
            "admin": bearer(admin["access_token"]),
            "agent": bearer((await log_in(client, agent["email"]))["access_token"]),
            "customer": bearer((await log_in(client, customer["email"]))["access_token"]),
        }


async def published(settings: Settings, event_type: str, user_id: str) -> list[dict[str, Any]]:
    """Payloads of the given event type of one user, queued for the public topic."""
    conn = await asyncpg.connect(settings.database_url)
    try:
        rows = await conn.fetch(
            """SELECT e.payload::text FROM outbox o JOIN events e
               ON e.stream_id = o.stream_id AND e.stream_version BETWEEN o.first_version AND o.last_version
               WHERE o.topic = $1 AND e.event_type = $2 AND e.stream_id = $3 ORDER BY e.stream_version""",
            settings.events_topic, event_type, user_id,
        )  # fmt: skip
    finally:
        await conn.close()
    return [json.loads(r["payload"]) for r in rows]


def routes(user_id: str) -> list[tuple[str, str]]:
    return [("GET", USERS), ("POST", f"{USERS}/{user_id}/disable"), ("POST", f"{USERS}/{user_id}/enable"),
            ("GET", f"{USERS}/{user_id}/audit")]  # fmt: skip


@pytest.mark.parametrize("route", range(4))
async def test_only_admins_may_call_the_admin_routes(
    client: httpx.AsyncClient, staff: dict[str, Any], route: int
) -> None:
    target = await sign_up(client)
    method, path = routes(target["id"])[route]
    assert (await client.request(method, path)).status_code == 401
    assert (await client.request(method, path, headers=staff["customer"])).status_code == 403
    assert (await client.request(method, path, headers=staff["agent"])).status_code == 403
    answer = await client.request(method, path, headers=staff["admin"])
    assert answer.status_code in (200, 204), answer.text


@pytest.mark.parametrize("route", [1, 2, 3])
async def test_an_unknown_user_is_404_and_a_malformed_id_422(
    client: httpx.AsyncClient, staff: dict[str, Any], route: int
) -> None:
    method, path = routes(str(uuid.uuid4()))[route]
    assert (await client.request(method, path, headers=staff["admin"])).status_code == 404
    method, path = routes("not-a-uuid")[route]
    malformed = await client.request(method, path, headers=staff["admin"])
    assert malformed.status_code == 422
    assert malformed.json()["errors"][0]["field"] == "path.user_id"


@pytest.mark.parametrize("query", [{"limit": "0"}, {"limit": "101"}, {"q": "x" * 321}, {"cursor": "bm9wZQ"}])
async def test_bad_list_parameters_are_422_naming_the_parameter(
    client: httpx.AsyncClient, staff: dict[str, Any], query: dict[str, str]
) -> None:
    answer = await client.get(USERS, params=query, headers=staff["admin"])
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == f"query.{next(iter(query))}"


async def test_admins_search_users_by_part_of_the_email_or_the_display_name_and_page_through(
    client: httpx.AsyncClient, staff: dict[str, Any]
) -> None:
    tag = uuid.uuid4().hex[:8]
    first = await sign_up(client, email=f"first.{tag}@example.com", name=f"Zed {tag} One")
    second = await sign_up(client, email=f"second.{tag}@example.com", name=f"Zed {tag} Two")
    by_email = (await client.get(USERS, params={"q": f"SECOND.{tag}"}, headers=staff["admin"])).json()
    assert [u["id"] for u in by_email["items"]] == [second["id"]]
    item = by_email["items"][0]
    assert (item["role"], item["email_verified"], item["disabled"]) == ("customer", False, False)
    assert item["created_at"]
    by_name = (await client.get(USERS, params={"q": f"zed {tag}", "limit": 1}, headers=staff["admin"])).json()
    assert [u["id"] for u in by_name["items"]] == [second["id"]]  # newest first
    rest = await client.get(USERS, params={"q": f"zed {tag}", "limit": 1, "cursor": by_name["next_cursor"]},
                            headers=staff["admin"])  # fmt: skip
    assert [u["id"] for u in rest.json()["items"]] == [first["id"]]
    assert rest.json()["next_cursor"] is None
    nothing = (await client.get(USERS, params={"q": f"{tag}%_"}, headers=staff["admin"])).json()
    assert nothing == {"items": [], "next_cursor": None}


async def test_disabling_ends_every_session_at_once_and_refuses_login_until_enabled(
    client: httpx.AsyncClient, settings: Settings, staff: dict[str, Any]
) -> None:
    user = await sign_up(client)
    here, elsewhere = await log_in(client, user["email"]), await log_in(client, user["email"])
    disabled = await client.post(f"{USERS}/{user['id']}/disable", headers=staff["admin"])
    assert disabled.status_code == 204
    for session in (here, elsewhere):
        assert (await client.get("/api/identity/me", headers=bearer(session["access_token"]))).status_code == 401
        refresh = await client.post("/api/identity/sessions/refresh", json={"refresh_token": session["refresh_token"]})
        assert refresh.status_code == 401
    refused = await client.post("/api/identity/sessions", json={"email": user["email"], "password": STRONG_PASSWORD})
    assert refused.status_code == 403
    assert refused.json()["type"].endswith("account-disabled")
    assert "disabled" in refused.json()["detail"]
    wrong = await client.post("/api/identity/sessions", json={"email": user["email"], "password": "wrong wrong 1"})
    assert wrong.status_code == 401  # a wrong password still says only that: the 403 needs the right one
    listed = (await client.get(USERS, params={"q": user["email"]}, headers=staff["admin"])).json()["items"]
    assert listed[0]["disabled"] is True
    assert (await client.post(f"{USERS}/{user['id']}/disable", headers=staff["admin"])).status_code == 204
    assert await published(settings, "UserDisabled", user["id"]) == [
        {"user_id": user["id"], "disabled_by": staff["admin_id"]}
    ]

    assert (await client.post(f"{USERS}/{user['id']}/enable", headers=staff["admin"])).status_code == 204
    await log_in(client, user["email"])
    assert await published(settings, "UserEnabled", user["id"]) == [
        {"user_id": user["id"], "enabled_by": staff["admin_id"]}
    ]


async def test_an_admin_can_neither_disable_nor_demote_themself(
    client: httpx.AsyncClient, staff: dict[str, Any]
) -> None:
    own = staff["admin_id"]
    disable = await client.post(f"{USERS}/{own}/disable", headers=staff["admin"])
    assert disable.status_code == 409
    demote = await client.post(f"{USERS}/{own}/roles", json={"role": "customer"}, headers=staff["admin"])
    assert demote.status_code == 409
    assert (await client.get("/api/identity/me", headers=staff["admin"])).json()["role"] == "admin"


async def test_the_audit_lists_role_changes_disable_enable_email_changes_and_password_resets_in_order(
    client: httpx.AsyncClient, settings: Settings, staff: dict[str, Any]
) -> None:
    user = await sign_up(client)
    admin_id = staff["admin_id"]
    assert (await client.post(f"{USERS}/{user['id']}/roles", json={"role": "agent"},
                              headers=staff["admin"])).status_code == 204  # fmt: skip
    assert (await client.post(f"{USERS}/{user['id']}/disable", headers=staff["admin"])).status_code == 204
    assert (await client.post(f"{USERS}/{user['id']}/enable", headers=staff["admin"])).status_code == 204
    pair = await log_in(client, user["email"])
    new_email = f"moved.{uuid.uuid4().hex[:8]}@example.com"
    asked = await client.post("/api/identity/me/email", json={"new_email": new_email,
                              "current_password": STRONG_PASSWORD}, headers=bearer(pair["access_token"]))  # fmt: skip
    assert asked.status_code == 202
    token = await latest_token(settings.database_url, settings.mail_topic, user["id"], "confirm-email-change")
    assert (await client.post("/api/identity/email-confirmations", json={"token": token})).status_code == 204
    changed = await client.post("/api/identity/me/password", json={"current_password": STRONG_PASSWORD,
                                "new_password": NEW_PASSWORD}, headers=bearer(pair["access_token"]))  # fmt: skip
    assert changed.status_code == 204
    assert (await client.post("/api/identity/password-resets", json={"email": new_email})).status_code == 202
    reset = await latest_token(settings.database_url, settings.mail_topic, user["id"], "password-reset")
    confirmed = await client.post("/api/identity/password-resets/confirm",
                                  json={"token": reset, "new_password": STRONG_PASSWORD})  # fmt: skip
    assert confirmed.status_code == 204

    audit = await client.get(f"{USERS}/{user['id']}/audit", headers=staff["admin"])
    assert audit.status_code == 200
    entries = audit.json()
    assert [e["action"] for e in entries] == [
        "role_changed", "disabled", "enabled", "email_changed", "password_changed", "password_reset",
    ]  # fmt: skip
    assert [e["actor_id"] for e in entries[:3]] == [admin_id] * 3
    assert entries[0]["detail"] == "role customer -> agent"
    assert entries[0]["actor_name"]
    assert entries[3]["actor_id"] == user["id"]
    assert new_email in entries[3]["detail"]
    assert user["email"] in entries[3]["detail"]
    assert [e["at"] for e in entries] == sorted(e["at"] for e in entries)
