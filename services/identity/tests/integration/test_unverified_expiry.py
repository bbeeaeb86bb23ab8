"""Unverified sign-ups expire after IDENTITY_UNVERIFIED_TTL_SECONDS, freeing the address and the display name."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import httpx
import pytest
from identity_builders import STRONG_PASSWORD, latest_token, log_in, run_command, settings_for, sign_up

from identity.bootstrap import build
from identity.config import Settings

pytestmark = pytest.mark.integration

EIGHT_DAYS_AGO = "UPDATE users SET created_at = now() - interval '8 days' WHERE id = $1"


async def signed_up_days_ago(settings: Settings, *user_ids: str) -> None:
    conn = await asyncpg.connect(settings.database_url)
    try:
        for user_id in user_ids:
            await conn.execute(EIGHT_DAYS_AGO, uuid.UUID(user_id))
    finally:
        await conn.close()


async def expiries_published(settings: Settings) -> list[str]:
    """Stream ids of UnverifiedAccountExpired events queued for the public topic (outbox rows refer to the events)."""
    conn = await asyncpg.connect(settings.database_url)
    try:
        rows = await conn.fetch(
            """SELECT e.stream_id FROM outbox o JOIN events e
               ON e.stream_id = o.stream_id AND e.stream_version BETWEEN o.first_version AND o.last_version
               WHERE o.topic = $1 AND e.event_type = 'UnverifiedAccountExpired'""",
            settings.events_topic,
        )
    finally:
        await conn.close()
    return [r["stream_id"] for r in rows]


async def test_an_old_unverified_account_expires_and_its_address_and_name_can_sign_up_again(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    squatter = await sign_up(client)
    recent = await sign_up(client)
    confirmed = await sign_up(client)
    token = await latest_token(settings.database_url, settings.mail_topic, confirmed["id"])
    assert (await client.post("/api/identity/email-confirmations", json={"token": token})).status_code == 204
    await signed_up_days_ago(settings, squatter["id"], confirmed["id"])
    again = {"email": squatter["email"], "password": STRONG_PASSWORD, "display_name": squatter["display_name"],
             "accept_terms": True}  # fmt: skip
    assert (await client.post("/api/identity/users", json=again)).status_code == 409

    code, output = await run_command(settings, "purge-unverified")
    assert code == 0, output
    assert "expired 1 " in output

    gone = await client.post("/api/identity/sessions", json={"email": squatter["email"], "password": STRONG_PASSWORD})
    assert gone.status_code == 401
    await log_in(client, recent["email"])
    await log_in(client, confirmed["email"])
    assert await expiries_published(settings) == [squatter["id"]]

    owner = await client.post("/api/identity/users", json=again)
    assert owner.status_code == 201, owner.text
    assert owner.json()["id"] != squatter["id"]
    # The event store still holds the expired stream: a rebuild must not bring it back.
    code, output = await run_command(settings, "rebuild-read-model")
    assert code == 0, output
    assert (await log_in(client, squatter["email"]))["access_token"]
    code, output = await run_command(settings, "purge-unverified")
    assert (code, "expired 0 " in output) == (0, True), output


async def test_the_worker_expires_old_unverified_accounts_on_its_own(
    client: httpx.AsyncClient, settings: Settings, kafka_bootstrap: str
) -> None:
    squatter = await sign_up(client)
    await signed_up_days_ago(settings, squatter["id"])
    worker_settings = settings_for(settings.database_url, kafka_bootstrap_servers=kafka_bootstrap)
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=2)
    workers = build(worker_settings, pool).workers()
    await workers.start()
    try:
        for _ in range(300):  # the first housekeeping round runs at start; wait for its outcome, not a period
            if await pool.fetchval("SELECT count(*) FROM users WHERE id = $1", uuid.UUID(squatter["id"])) == 0:
                break
            await asyncio.sleep(0.05)
        assert await pool.fetchval("SELECT count(*) FROM users WHERE id = $1", uuid.UUID(squatter["id"])) == 0
    finally:
        await workers.stop()
        await pool.close()
