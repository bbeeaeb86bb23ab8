"""Test plumbing shared by the integration tests: a real SMTP server that can go down, and the harness."""

from __future__ import annotations

import asyncio
import email
import email.policy
import uuid
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer
from aiosmtpd.controller import Controller
from fastapi import FastAPI

from casefold_events.contracts import UserRegistered
from casefold_events.envelope import Actor, Envelope, Metadata, encode, kafka_headers
from casefold_testing.tokens import TestTokenIssuer
from notifications.config import Settings


class _Collector:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802
        sink = self.sink
        if address.startswith("bounce") or address in sink.refused:
            return "550 5.1.1 no such mailbox"
        if address.startswith("hangup") or address in sink.hangup_once:
            sink.hangup_once.discard(address)
            server.transport.close()  # the connection breaks under this message
            return "421 4.4.2 closing connection"
        if sink.tempfail.get(address, 0) > 0:
            sink.tempfail[address] -= 1
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        sink = self.sink
        sink.in_flight += 1
        sink.most_in_flight = max(sink.most_in_flight, sink.in_flight)
        try:
            await asyncio.sleep(sink.delay)  # a slow server: what several connections at once are for
        finally:
            sink.in_flight -= 1
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        sink.received.append(message)
        sink.peers.append(session.peer)
        return "250 Message accepted for delivery"


@dataclass
class SmtpSink:
    """aiosmtpd on a fixed port that can be stopped and started again (an outage)."""

    port: int
    received: list[EmailMessage] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)  # answered 550 while listed
    tempfail: dict[str, int] = field(default_factory=dict)  # address -> how many more times to answer 451
    hangup_once: set[str] = field(default_factory=set)  # the connection breaks under these, once each
    delay: float = 0.0  # seconds before each message is accepted
    peers: list[Any] = field(default_factory=list)  # the client's (address, port) of each accepted message
    in_flight: int = 0
    most_in_flight: int = 0  # the most messages that were being accepted at the same time
    _controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(_Collector(self), hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def to(self, address: str) -> list[EmailMessage]:
        """The messages to address, in the order SMTP accepted them (the delivery lanes send concurrently, so two
        emails of one case may arrive in either order: pick one by its kind, `of_kind`)."""
        return [m for m in self.received if address in str(m["To"])]

    def of_kind(self, address: str, kind: str) -> EmailMessage:
        """The one message of this kind (its Message-ID is <event id>.<kind>@domain) to address."""
        [message] = [m for m in self.to(address) if str(m["Message-ID"]).split("@")[0].endswith(f".{kind}")]
        return message


@dataclass
class Harness:
    app: FastAPI
    settings: Settings
    http: httpx.AsyncClient
    smtp: SmtpSink
    producer: AIOKafkaProducer
    tokens: TestTokenIssuer
    pool: asyncpg.Pool

    async def publish(self, envelope: Envelope) -> None:
        s = self.settings
        topic = {"case": s.cases_topic, "user": s.identity_topic, "mail": s.identity_mail_topic}[envelope.stream_type]
        await self.producer.send_and_wait(topic, encode(envelope), key=envelope.stream_id.encode(),
                                          headers=kafka_headers(envelope))  # fmt: skip

    async def registered(self, name: str, role: str) -> tuple[uuid.UUID, str]:
        """A new user of this role, once the directory knows them (identity's topic is not ordered with the cases'
        events: a case event naming a user must wait for it); their id and address."""
        user_id = uuid.uuid4()
        address = f"{user_id.hex[:10]}@{'casefold.local' if role != 'customer' else 'customer.test'}"
        event = UserRegistered(user_id=user_id, email=address, display_name=name, terms_version="2026-01", role=role)
        await self.publish(Envelope.wrap(event, stream_id=str(user_id), stream_type="user", stream_version=1,
                                         metadata=Metadata(actor=Actor(user_id=None, role="system"))))  # fmt: skip

        async def known() -> bool:
            return bool(await self.pool.fetchval("SELECT 1 FROM users WHERE user_id = $1", user_id))

        await self.until(known)
        return user_id, address

    async def emails(self, case_id: uuid.UUID | None = None) -> list[dict[str, Any]]:
        rows = await self.pool.fetch(
            "SELECT * FROM emails WHERE ($1::uuid IS NULL OR case_id = $1) ORDER BY seq", case_id
        )
        return [dict(r) for r in rows]

    async def until(self, check: Callable[[], Awaitable[bool]], seconds: float = 30) -> None:
        async with asyncio.timeout(seconds):
            while not await check():
                await asyncio.sleep(0.05)

    async def delivered(self, count: int, seconds: float = 30) -> list[EmailMessage]:
        async def enough() -> bool:
            return len(self.smtp.received) >= count

        await self.until(enough, seconds)
        return self.smtp.received

    async def settled(self, case_id: uuid.UUID | None = None, seconds: float = 30) -> list[dict[str, Any]]:
        """The emails once none is queued any more (the server's acceptance is recorded just after it happens)."""

        async def done() -> bool:
            return all(r["status"] != "queued" for r in await self.emails(case_id))

        await self.until(done, seconds)
        return await self.emails(case_id)

    def auth(self, user_id: uuid.UUID, role: str = "customer") -> dict[str, str]:
        return self.tokens.auth_header(user_id=user_id, role=role)


HarnessFactory = Callable[..., AbstractAsyncContextManager[Harness]]
