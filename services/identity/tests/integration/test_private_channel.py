"""Confirmation links travel only on the private mail topic: the public identity topic never carries a token."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from identity_builders import (
    STRONG_PASSWORD,
    bearer,
    latest_token,
    log_in,
    running_server,
    settings_for,
    sign_up,
    token_of,
)

from casefold_events.relay import OutboxRelay

pytestmark = pytest.mark.integration

NEW_PASSWORD = "another fine passphrase 9"
RESET_PASSWORD = "a reset passphrase 31 ok"


async def read_topic(bootstrap: str, topic: str, expected: int, wait_seconds: float = 30.0) -> list[bytes]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    values: list[bytes] = []
    try:
        deadline = asyncio.get_running_loop().time() + wait_seconds
        while len(values) < expected and asyncio.get_running_loop().time() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            values.extend(m.value for messages in batches.values() for m in messages if m.value is not None)
        # Anything published late would still be caught: read a little longer than needed.
        batches = await consumer.getmany(timeout_ms=1000)
        values.extend(m.value for messages in batches.values() for m in messages if m.value is not None)
    finally:
        await consumer.stop()
    return values


async def test_tokens_never_reach_the_public_topic_or_the_event_store(
    database: str, kafka_bootstrap: str, topic_factory: Callable[..., Awaitable[str]]
) -> None:
    settings = settings_for(
        database, events_topic=await topic_factory("identity-events"), mail_topic=await topic_factory("identity-mail")
    )
    relay = OutboxRelay(database, kafka_bootstrap, "identity-relay-test")
    await relay.start()
    try:
        async with running_server(settings) as url, httpx.AsyncClient(base_url=url, timeout=30) as http:
            user = await sign_up(http)
            await http.post("/api/identity/email-confirmations/resend", json={"email": user["email"]})
            pair = await log_in(http, user["email"])
            await http.post(
                "/api/identity/me/email",
                json={"new_email": "moved." + user["email"], "current_password": STRONG_PASSWORD},
                headers=bearer(pair["access_token"]),
            )
            await http.post(
                "/api/identity/me/password",
                json={"current_password": STRONG_PASSWORD, "new_password": NEW_PASSWORD},
                headers=bearer(pair["access_token"]),
            )
            await http.post("/api/identity/password-resets", json={"email": user["email"]})
            reset = await latest_token(database, settings.mail_topic, user["id"], "password-reset")
            confirmed = await http.post(
                "/api/identity/password-resets/confirm", json={"token": reset, "new_password": RESET_PASSWORD}
            )
            assert confirmed.status_code == 204
            mail = await read_topic(kafka_bootstrap, settings.mail_topic, expected=6)
            public = await read_topic(kafka_bootstrap, settings.events_topic, expected=5)
    finally:
        await relay.stop()

    commands = [json.loads(v) for v in mail]
    templates = [c["payload"]["template"] for c in commands]
    assert templates == [
        "confirm-email", "confirm-email", "confirm-email-change", "password-changed", "password-reset",
        "password-reset-notice",
    ]  # fmt: skip
    tokens = [token_of(c) for c in commands if c["payload"]["action_url"]]
    assert len(tokens) == 4
    assert reset in tokens
    event_types = [json.loads(v)["event_type"] for v in public]
    # The reset proves control of the (unconfirmed) address, so it confirms it as well.
    assert event_types == ["UserRegistered", "EmailChangeRequested", "PasswordChanged", "EmailConfirmed",
                           "PasswordChanged"]  # fmt: skip
    for token in tokens:
        assert all(token.encode() not in value for value in public), "a link token is on the public topic"
        assert all(b"action_url" not in value and b"confirm-email?" not in value for value in public)
        assert all(b"reset-password?" not in value for value in public)

    conn = await asyncpg.connect(database)
    try:
        stored_events = [r["payload"] for r in await conn.fetch("SELECT payload::text FROM events")]
        stored_hashes = await conn.fetchval("SELECT count(*) FROM confirmation_tokens")
        plain = await conn.fetchval(
            "SELECT count(*) FROM confirmation_tokens WHERE encode(token_hash, 'escape') = ANY($1::text[])", tokens
        )
        plain_resets = await conn.fetchval(
            "SELECT count(*) FROM password_reset_tokens WHERE encode(token_hash, 'escape') = ANY($1::text[])", tokens
        )
        password_hashes = [r["payload"] for r in await conn.fetch("SELECT payload::text FROM events")]
    finally:
        await conn.close()
    for token in tokens:
        assert all(token not in payload for payload in stored_events)
    assert stored_hashes >= 3
    assert plain == plain_resets == 0
    assert all("argon2" not in payload for payload in password_hashes)
