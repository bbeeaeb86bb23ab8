"""The identity-events consumer: thin, it turns each user event into a change of the user directory."""

from __future__ import annotations

from uuid import UUID

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from casefold_events.consumer import ConsumerRunner
from casefold_events.contracts import (
    EmailChanged,
    EmailConfirmed,
    Event,
    ProfileUpdated,
    RoleGranted,
    UserDisabled,
    UserEnabled,
    UserRegistered,
)
from casefold_events.envelope import Envelope
from cases.adapters import directory
from cases.adapters.directory import Change
from cases.config import Settings

# The user events the directory is made of; any other event type on the topic is acknowledged and skipped.
DIRECTORY_EVENTS = frozenset({
    "UserRegistered", "EmailConfirmed", "EmailChanged", "ProfileUpdated", "RoleGranted", "UserDisabled", "UserEnabled",
})  # fmt: skip


def change_of(event: Event) -> tuple[UUID, Change] | None:
    """Which user an identity event is about and what it says of them (None: nothing the directory keeps)."""
    match event:
        case UserRegistered():
            return event.user_id, Change(display_name=event.display_name, email=event.email, role=event.role)
        case EmailConfirmed() | EmailChanged():
            return event.user_id, Change(email=event.email, email_verified=True)
        case ProfileUpdated():
            return event.user_id, Change(display_name=event.display_name)
        case RoleGranted():
            return event.user_id, Change(role=event.role)
        case UserDisabled() | UserEnabled():
            return event.user_id, Change(disabled=isinstance(event, UserDisabled))
    return None


async def apply_identity_event(conn: asyncpg.Connection, envelope: Envelope) -> None:
    """The ConsumerRunner handler: one event, in the runner's transaction (with its inbox row)."""
    if envelope.event_type not in DIRECTORY_EVENTS:
        return
    found = change_of(envelope.event())
    if found is not None:
        user_id, change = found
        await directory.apply(conn, user_id, envelope.stream_version, envelope.occurred_at, change)


def identity_events_consumer(settings: Settings, pool: asyncpg.Pool) -> ConsumerRunner:
    """ConsumerRunner `CASES_CONSUMER_NAME` ("cases") on identity.events.v1; dead letters on <name>.dlq."""
    return ConsumerRunner(
        settings.consumer_name,
        settings.kafka_bootstrap_servers,
        [settings.identity_topic],
        pool,
        apply_identity_event,
        client_options=settings.kafka_options(),
    )


RESET = "DELETE FROM inbox WHERE consumer = $1"


async def reset_user_directory(settings: Settings, pool: asyncpg.Pool) -> int:
    """Rebuild from scratch: rewind the consumer group to the start of the topic, then empty the directory and the
    group's inbox rows (so every event is applied again). Stop the workers first: the broker refuses the rewind of
    a group that has members, but a worker stalled past its session timeout is no member. The partitions rewound."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers, **settings.kafka_options())
    await admin.start()
    try:
        (described,) = await admin.describe_topics([settings.identity_topic])
    finally:
        await admin.close()
    partitions = [TopicPartition(settings.identity_topic, p["partition"]) for p in described.get("partitions", ())]
    if not partitions:
        raise LookupError(f"topic {settings.identity_topic} has no partitions (does it exist?)")
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers, group_id=settings.consumer_name,
                                enable_auto_commit=False, **settings.kafka_options())  # fmt: skip
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.commit(await consumer.beginning_offsets(partitions))
    finally:
        await consumer.stop()
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(RESET, settings.consumer_name)
        await directory.clear(conn)
    return len(partitions)
