"""The user directory follows identity.events.v1 through the in-process consumer: in any order, each event once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from cases_builders import TopicMaker, User

from casefold_events.contracts import EmailChanged, EmailConfirmed, Event, ProfileUpdated, RoleGranted, UserRegistered
from casefold_events.envelope import Envelope, Metadata, encode, kafka_headers
from cases.config import Settings

pytestmark = pytest.mark.integration

UserFactory = Callable[..., User]
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def topics(module_topics: TopicMaker) -> dict[str, str]:
    tag = uuid.uuid4().hex[:8]
    names = {"cases": f"cases.events.dir.{tag}", "identity": f"identity.events.dir.{tag}",
             "consumer": f"cases-dir-{tag}"}  # fmt: skip
    for name in (names["cases"], names["identity"], f"{names['consumer']}.dlq"):
        await module_topics(name)
    return names


@pytest.fixture(scope="module")
def settings(database: str, topics: dict[str, str], kafka_bootstrap: str) -> Settings:
    return Settings(
        environment="test", database_url=database, topic=topics["cases"], identity_topic=topics["identity"],
        consumer_name=topics["consumer"], kafka_bootstrap_servers=kafka_bootstrap, run_workers=True,
    )  # fmt: skip


def envelope(event: Event, user_id: uuid.UUID, version: int) -> Envelope:
    return Envelope.wrap(event, stream_id=str(user_id), stream_type="user", stream_version=version,
                         metadata=Metadata(), occurred_at=T0 + timedelta(minutes=version))  # fmt: skip


Publish = Callable[..., Awaitable[None]]


@pytest.fixture
def publish(producer: AIOKafkaProducer, settings: Settings) -> Publish:
    async def send(*envelopes: Envelope) -> None:
        for e in envelopes:
            await producer.send_and_wait(settings.identity_topic, encode(e), key=e.stream_id.encode(),
                                         headers=kafka_headers(e))  # fmt: skip

    return send


async def settled(pool: asyncpg.Pool, user_id: uuid.UUID, version: int) -> dict[str, Any]:
    """The directory row once the event at `version` (the newest sent) has been applied."""
    async with asyncio.timeout(30):
        while True:
            row = await pool.fetchrow("SELECT * FROM users WHERE id = $1", user_id)
            if row is not None and row["version"] >= version:
                return dict(row)
            await asyncio.sleep(0.05)


def registered(user_id: uuid.UUID, name: str = "Ada", email: str = "ada@example.com") -> UserRegistered:
    return UserRegistered(user_id=user_id, email=email, display_name=name, terms_version="2026-01")


async def test_a_users_events_become_their_directory_row(pool: asyncpg.Pool, publish: Publish) -> None:
    uid = uuid.uuid4()
    await publish(
        envelope(registered(uid), uid, 1),
        envelope(EmailConfirmed(user_id=uid, email="ada@example.com"), uid, 2),
        envelope(ProfileUpdated(user_id=uid, display_name="Ada L."), uid, 3),
        envelope(EmailChanged(user_id=uid, old_email="ada@example.com", email="ada@new.example"), uid, 4),
        envelope(RoleGranted(user_id=uid, role="agent"), uid, 5),
    )

    row = await settled(pool, uid, 5)

    assert (row["display_name"], row["email"], row["email_verified"], row["role"]) == (
        "Ada L.", "ada@new.example", True, "agent",
    )  # fmt: skip
    assert row["updated_at"] == T0 + timedelta(minutes=5)


async def test_a_redelivered_event_changes_nothing(pool: asyncpg.Pool, publish: Publish, settings: Settings) -> None:
    uid = uuid.uuid4()
    first_rename = envelope(ProfileUpdated(user_id=uid, display_name="First"), uid, 2)
    await publish(envelope(registered(uid), uid, 1), first_rename,
                  envelope(ProfileUpdated(user_id=uid, display_name="Second"), uid, 3))  # fmt: skip
    before = await settled(pool, uid, 3)

    await publish(first_rename, first_rename)
    await publish(envelope(RoleGranted(user_id=uid, role="admin"), uid, 4))  # behind the redeliveries
    after = await settled(pool, uid, 4)

    assert after == {**before, "role": "admin", "role_version": 4, "version": 4, "updated_at": after["updated_at"]}
    assert after["display_name"] == "Second"
    seen = await pool.fetchval(
        "SELECT count(*) FROM inbox WHERE consumer = $1 AND event_id = $2", settings.consumer_name,
        first_rename.event_id,
    )  # fmt: skip
    assert seen == 1


async def test_events_out_of_order_end_as_in_order(pool: asyncpg.Pool, publish: Publish) -> None:
    uid = uuid.uuid4()
    await publish(
        envelope(ProfileUpdated(user_id=uid, display_name="Renamed"), uid, 3),
        envelope(EmailConfirmed(user_id=uid, email="ada@example.com"), uid, 2),
        envelope(registered(uid, name="Original"), uid, 1),
    )

    async with asyncio.timeout(30):
        while (row := await pool.fetchrow("SELECT * FROM users WHERE id = $1", uid)) is None or row["role"] is None:
            await asyncio.sleep(0.05)

    assert (row["display_name"], row["email"], row["email_verified"], row["role"]) == (
        "Renamed", "ada@example.com", True, "customer",
    )  # fmt: skip
    assert (row["version"], row["updated_at"]) == (3, T0 + timedelta(minutes=3))


async def test_a_poison_event_is_dead_lettered_and_the_next_one_still_applies(
    pool: asyncpg.Pool, publish: Publish, producer: AIOKafkaProducer, settings: Settings, kafka_bootstrap: str
) -> None:
    uid = uuid.uuid4()
    poison = envelope(registered(uid), uid, 1).model_copy(update={"payload": {"user_id": "not-a-uuid"}})
    await producer.send_and_wait(settings.identity_topic, encode(poison), key=poison.stream_id.encode(),
                                 headers=kafka_headers(poison))  # fmt: skip
    await publish(envelope(ProfileUpdated(user_id=uid, display_name="After poison"), uid, 2))

    assert (await settled(pool, uid, 2))["display_name"] == "After poison"
    consumer = AIOKafkaConsumer(f"{settings.consumer_name}.dlq", bootstrap_servers=kafka_bootstrap,
                                auto_offset_reset="earliest", group_id=f"t-{uuid.uuid4().hex[:6]}")  # fmt: skip
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), 30)
    finally:
        await consumer.stop()
    assert dict(record.headers)["event_id"] == str(poison.event_id).encode()


async def test_a_confirmation_after_login_lets_the_customer_open_a_case(
    user: UserFactory, pool: asyncpg.Pool, publish: Publish
) -> None:
    customer = user(email_verified=False)  # a token issued before the email was confirmed
    uid = customer.user_id
    await publish(envelope(registered(uid, name="Late Confirmer"), uid, 1))
    await settled(pool, uid, 1)

    refused = await customer.post("/api/cases", json=_case())
    assert refused.status_code == 403
    assert "Confirm your email" in refused.json()["detail"]

    await publish(envelope(EmailConfirmed(user_id=uid, email="ada@example.com"), uid, 2))
    await settled(pool, uid, 2)
    opened = await customer.post("/api/cases", json=_case())

    assert opened.status_code == 201, opened.text
    assert opened.json()["opened_by_name"] == "Late Confirmer"


async def test_an_unverified_token_of_a_user_the_directory_does_not_know_is_refused(user: UserFactory) -> None:
    response = await user(email_verified=False).post("/api/cases", json=_case())

    assert response.status_code == 403


def _case() -> dict[str, Any]:
    return {"product": "casefold-cloud", "subject": "Exports fail", "description": "CSV errors.", "severity": 2}
