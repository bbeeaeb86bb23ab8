"""Builders for the identity tests: settings, a real uvicorn server, and helpers that walk the HTTP API."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import asyncpg
import httpx
import uvicorn
from fastapi import FastAPI

from casefold_local.procs import free_port
from identity.config import Settings
from identity.main import create_app

STRONG_PASSWORD = "correct horse battery staple 42"


def settings_for(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": "test",
        "database_url": database_url,
        "run_workers": False,
        "events_topic": f"identity.events.test.{uuid.uuid4().hex[:8]}",
        "mail_topic": f"identity.mail.test.{uuid.uuid4().hex[:8]}",
        "key_cache_seconds": 0.0,
        "log_level": "WARNING",
    }
    values.update(overrides)
    return Settings(**values)


@contextlib.asynccontextmanager
async def running_server(settings: Settings, app: FastAPI | None = None) -> AsyncIterator[str]:
    """The identity app (or the given one) served by uvicorn on a free port; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(app or create_app(settings), host="127.0.0.1", port=port, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        if task.done():
            task.result()
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def unique_person() -> tuple[str, str]:
    """A fresh email and display name."""
    tag = uuid.uuid4().hex[:10]
    return f"person.{tag}@example.com", f"Person {tag}"


async def sign_up(
    client: httpx.AsyncClient, email: str | None = None, name: str | None = None, **extra: Any
) -> dict[str, Any]:
    default_email, default_name = unique_person()
    body = {
        "email": email or default_email,
        "password": STRONG_PASSWORD,
        "display_name": name or default_name,
        "accept_terms": True,
        **extra,
    }
    response = await client.post("/api/identity/users", json=body)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


async def mail_commands(dsn: str, topic: str, user_id: str | None = None) -> list[dict[str, Any]]:
    """SendAccountEmail envelopes queued on the private topic (the outbox), oldest first."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT value FROM outbox WHERE topic = $1 ORDER BY id", topic)
    finally:
        await conn.close()
    envelopes = [json.loads(r["value"]) for r in rows]
    return [e for e in envelopes if user_id is None or e["payload"]["user_id"] == user_id]


def token_of(command: dict[str, Any]) -> str:
    url: str = command["payload"]["action_url"]
    return parse_qs(urlparse(url).query)["token"][0]


async def latest_token(dsn: str, topic: str, user_id: str, template: str = "confirm-email") -> str:
    commands = [c for c in await mail_commands(dsn, topic, user_id) if c["payload"]["template"] == template]
    return token_of(commands[-1])


async def log_in(client: httpx.AsyncClient, email: str, password: str = STRONG_PASSWORD) -> dict[str, Any]:
    response = await client.post("/api/identity/sessions", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def run_command(settings: Settings, *args: str, **env: str) -> tuple[int, str]:
    """Run `python -m identity ARGS` against the test database; (exit code, stdout + stderr)."""
    environment = {
        **os.environ,
        "IDENTITY_DATABASE_URL": settings.database_url,
        "IDENTITY_ENVIRONMENT": "test",
        "IDENTITY_MAIL_TOPIC": settings.mail_topic,
        "IDENTITY_EVENTS_TOPIC": settings.events_topic,
        **env,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "identity", *args, env=environment,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    return await process.wait(), output.decode()


async def create_admin(settings: Settings) -> tuple[str, str]:
    """Run the documented first-admin command; returns its email and display name."""
    email, name = unique_person()
    code, output = await run_command(
        settings, "create-admin", "--email", email, "--display-name", name, IDENTITY_ADMIN_PASSWORD=STRONG_PASSWORD
    )
    assert code == 0, output
    assert STRONG_PASSWORD not in output
    return email, name


async def fresh_failures(settings: Settings) -> None:
    """As if the counted failures so far had just happened. The first login delays (1 s, 2 s) are about what one
    argon2 check takes on a loaded machine: a test that needs them still running says so, instead of hoping the
    machine is fast."""
    conn = await asyncpg.connect(settings.database_url)
    try:
        await conn.execute("UPDATE rate_limit_hits SET at = now()")
    finally:
        await conn.close()
