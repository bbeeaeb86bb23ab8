"""Test data for the cases service: commands, events folded into aggregates, attachment receipts, API callers."""

from __future__ import annotations

import hashlib
import itertools
import os
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from casefold_events.contracts import AttachmentRef, Event
from casefold_events.receipts import issue
from casefold_platform.settings import DEV_RECEIPT_KEY
from casefold_testing.tokens import TestTokenIssuer
from cases.adapters import directory
from cases.config import Settings
from cases.domain.commands import Caller, OpenCase, VerifiedAttachment
from cases.domain.model import Case, check_may_open, open_case

# The module_topics fixture: `await module_topics(name, partitions)` -> the topic, deleted after the module.
TopicMaker = Callable[..., Awaitable[str]]
RECEIPT_KEY = DEV_RECEIPT_KEY.encode()
CATALOGUE = {"casefold-cloud": "Casefold Cloud", "casefold-server": "Casefold Server"}
T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


def customer(**kwargs: Any) -> Caller:
    return Caller(user_id=kwargs.pop("user_id", uuid.uuid4()), role="customer", **kwargs)


def agent() -> Caller:
    return Caller(user_id=uuid.uuid4(), role="agent")


def open_command(**overrides: Any) -> OpenCase:
    values: dict[str, Any] = {
        "case_id": uuid.uuid4(),
        "product_id": "casefold-cloud",
        "subject": "Exports fail",
        "description": "Every CSV export ends with an error.",
        "severity": 2,
    }
    values.update(overrides)
    return OpenCase(**values)


def attachment_ref(name: str = "log.txt") -> AttachmentRef:
    return AttachmentRef(
        attachment_id=uuid.uuid4(),
        filename=name,
        size=12,
        content_type="text/plain",
        sha256=hashlib.sha256(name.encode()).hexdigest(),
    )


def verified(uploaded_by: uuid.UUID, ref: AttachmentRef | None = None) -> VerifiedAttachment:
    return VerifiedAttachment(ref=ref or attachment_ref(), uploaded_by=uploaded_by)


def receipt(uploaded_by: uuid.UUID, ref: AttachmentRef | None = None, **kwargs: Any) -> str:
    """A signed attachment reference, as the attachments service hands them out."""
    return issue(kwargs.pop("key", RECEIPT_KEY), ref or attachment_ref(), uploaded_by, **kwargs)


def fold(case: Case, events: Sequence[Event], *, at: datetime | None = None) -> Case:
    """Apply new events to an aggregate as the repository would after an append (they happen `at`)."""
    when = at or T0 + timedelta(minutes=case.version)
    return case.replay_events([(case.version + i, when, e) for i, e in enumerate(events, start=1)])


def opened_case(owner: Caller | None = None, **overrides: Any) -> Case:
    owner = owner or customer()
    command = open_command(**overrides)
    event = open_case(command, check_may_open(command, owner, CATALOGUE), number=42)
    return fold(Case(str(command.case_id)), [event])


@dataclass
class User:
    """An API caller with a freshly minted token."""

    client: httpx.AsyncClient
    issuer: TestTokenIssuer
    role: str = "customer"
    email_verified: bool = True
    user_id: uuid.UUID = field(default_factory=uuid.uuid4)

    @property
    def headers(self) -> dict[str, str]:
        return self.issuer.auth_header(user_id=self.user_id, role=self.role, email_verified=self.email_verified)

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.client.get(path, headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.client.post(path, headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs)

    async def open(self, **overrides: Any) -> dict[str, Any]:
        body = {"product": "casefold-cloud", "subject": "Exports fail", "description": "CSV export errors.",
                "severity": 2, **overrides}  # fmt: skip
        response = await self.post("/api/cases", json=body)
        assert response.status_code == 201, response.text
        data: dict[str, Any] = response.json()
        return data

    async def comment(self, case_id: str, body: str = "More detail", **extra: Any) -> httpx.Response:
        return await self.post(f"/api/cases/{case_id}/comments", json={"body": body, **extra})

    async def close(self, case_id: str) -> httpx.Response:
        return await self.post(f"/api/cases/{case_id}/close")

    async def list(self, **params: Any) -> dict[str, Any]:
        response = await self.get("/api/cases", params=params)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data


_directory_versions = itertools.count(1)


async def enrol(pool: asyncpg.Pool, who: User, *, role: str | None = None, name: str | None = None) -> User:
    """Put who in the user directory (as identity's events would): display name, email, role (default theirs)."""
    change = directory.Change(
        display_name=name or f"{who.role.title()} {str(who.user_id)[:8]}",
        email=f"{who.user_id}@people.test",
        email_verified=True,
        role=role or who.role,  # type: ignore[arg-type]
    )
    async with pool.acquire() as conn:
        await directory.apply(conn, who.user_id, next(_directory_versions), T0, change)
    return who


async def revoke(pool: asyncpg.Pool, who: User) -> None:
    """The directory hears that who is a customer now (their agent role revoked)."""
    async with pool.acquire() as conn:
        await directory.apply(conn, who.user_id, next(_directory_versions), T0, directory.Change(role="customer"))


async def disable(pool: asyncpg.Pool, who: User, *, disabled: bool = True) -> None:
    """The directory hears that an admin disabled who's account (or, with disabled=False, enabled it again)."""
    async with pool.acquire() as conn:
        await directory.apply(conn, who.user_id, next(_directory_versions), T0, directory.Change(disabled=disabled))


def worker_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment of a `python -m cases worker` subprocess over a test module's database and topics."""
    return {**os.environ, "CASES_ENVIRONMENT": "test", "CASES_DATABASE_URL": settings.database_url,
            "CASES_EVENTS_TOPIC": settings.events_topic, "CASES_IDENTITY_TOPIC": settings.identity_topic,
            "CASES_KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
            "CASES_CONSUMER_NAME": f"cases-{uuid.uuid4().hex[:6]}", **extra}  # fmt: skip
