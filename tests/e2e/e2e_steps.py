"""Small steps of the end-to-end journey, each through the gateway (or the inbox a person would read)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote

import aiosmtplib
import httpx
import jsonschema
from aiokafka import AIOKafkaConsumer

from casefold_local.stack import Layout

SCHEMAS = Path(__file__).resolve().parents[2] / "libs" / "events" / "schemas" / "json"
T = TypeVar("T")
CreateAdmin = Callable[[str, str, str], None]


async def eventually(probe: Callable[[], Awaitable[T | None]], what: str, within: float = 60) -> T:
    """Poll probe() until it returns something (not None); fail naming what did not happen."""
    deadline = time.monotonic() + within
    while True:
        result = await probe()
        if result is not None:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"within {within:.0f}s: {what}")
        await asyncio.sleep(0.5)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Account:
    email: str
    password: str
    display_name: str
    id: str = ""
    access_token: str = ""
    refresh_token: str = ""

    @property
    def auth(self) -> dict[str, str]:
        return bearer(self.access_token)


def new_account(kind: str) -> Account:
    tag = uuid.uuid4().hex[:10]
    return Account(f"{kind}-{tag}@example.com", f"Correct horse {tag} battery!", f"{kind.title()} {tag}")


async def mail_to(inbox: httpx.AsyncClient, address: str, matches: Callable[[dict[str, Any]], bool], what: str) -> Any:
    """The first message to address whose summary matches, read in full from the inbox API."""

    async def probe() -> dict[str, Any] | None:
        listed = (await inbox.get("/api/messages", params={"to": address})).json()
        found = next((m for m in listed if matches(m)), None)
        return None if found is None else (await inbox.get(f"/api/messages/{found['id']}")).json()

    return await eventually(probe, f"a mail to {address}: {what}")


def confirmation_token(message: dict[str, Any]) -> str:
    match = re.search(r"confirm-email\?token=([^\s&\"'<>]+)", message["text"] or message["html"] or "")
    assert match, f"no confirmation link in {message['subject']!r}"
    return unquote(match.group(1))


async def sign_up_and_confirm(gateway: httpx.AsyncClient, inbox: httpx.AsyncClient, account: Account) -> None:
    response = await gateway.post(
        "/api/identity/users",
        json={"email": account.email, "password": account.password, "display_name": account.display_name,
              "accept_terms": True},
    )  # fmt: skip
    assert response.status_code == 201, response.text
    account.id = response.json()["id"]
    assert response.json()["email_verified"] is False
    mail = await mail_to(inbox, account.email, lambda m: True, "the confirmation mail")
    confirmed = await gateway.post("/api/identity/email-confirmations", json={"token": confirmation_token(mail)})
    assert confirmed.status_code == 204, confirmed.text


async def log_in(gateway: httpx.AsyncClient, account: Account) -> None:
    response = await gateway.post("/api/identity/sessions", json={"email": account.email, "password": account.password})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer"
    account.access_token, account.refresh_token = body["access_token"], body["refresh_token"]


async def upload(gateway: httpx.AsyncClient, account: Account, filename: str, content: bytes) -> dict[str, Any]:
    response = await gateway.post(
        "/api/attachments", files={"file": (filename, content, "text/plain")}, headers=account.auth
    )
    assert response.status_code == 201, response.text
    stored: dict[str, Any] = response.json()[0]
    return stored


async def reply_by_email(
    layout: Layout, message: dict[str, Any], sender: str, text: str, attachment: tuple[str, bytes] | None = None
) -> None:
    """Answer a message from the inbox as a mail client would: to its Reply-To, threaded under it, over SMTP to
    notifications' inbound listener; optionally with a text attachment (name, content)."""
    headers = message["headers"]
    reply = EmailMessage()
    reply["From"] = sender
    reply["To"] = headers["Reply-To"]
    reply["Subject"] = f"Re: {headers['Subject']}"
    reply["Message-ID"] = make_msgid(domain="mail.customer.test")
    reply["In-Reply-To"] = headers["Message-ID"]
    reply["References"] = headers.get("References", "") + " " + headers["Message-ID"]
    reply.set_content(text)
    if attachment is not None:
        reply.add_attachment(attachment[1], maintype="text", subtype="plain", filename=attachment[0])
    await aiosmtplib.send(reply, hostname="127.0.0.1", port=layout.inbound_smtp_port, timeout=30)


class EventTap:
    """Support tooling: reads a topic from the beginning without a consumer group, keeping one case's events."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        # No group: every partition, from the earliest offset, and nobody's committed offsets move.
        self.consumer = AIOKafkaConsumer(
            topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest", enable_auto_commit=False
        )
        self.topic = topic
        self.records: list[dict[str, Any]] = []
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.consumer.start()
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for record in self.consumer:
            assert record.value is not None
            self.records.append(
                {
                    "value": json.loads(record.value),
                    "headers": {k: v.decode() for k, v in record.headers},
                    "key": record.key.decode() if record.key else None,
                }
            )

    def for_stream(self, stream_id: str) -> list[dict[str, Any]]:
        return [r for r in self.records if r["value"].get("stream_id") == stream_id]

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        await self.consumer.stop()


def validate_event(record: dict[str, Any]) -> None:
    """Envelope and payload both valid against the published JSON Schema files."""
    envelope = record["value"]
    jsonschema.validate(envelope, json.loads((SCHEMAS / "Envelope.json").read_text()))
    schema = json.loads((SCHEMAS / f"{envelope['event_type']}.v{envelope['schema_version']}.json").read_text())
    jsonschema.validate(envelope["payload"], schema)
    assert record["headers"]["event_type"] == envelope["event_type"]
    assert record["key"] == envelope["stream_id"]
