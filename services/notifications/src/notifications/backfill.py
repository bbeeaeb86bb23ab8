"""`python -m notifications backfill-disabled-users`: directories projected before migration 0005 skipped
UserDisabled / UserEnabled; this reads identity.events.v1 from its start to its current end and sets who is disabled.

It reads without a consumer group (the worker's offsets and inbox are untouched) and sets the disabled flag, which
follows the user stream's version: an event older than what the directory holds changes nothing, so it is safe
beside running workers and safe to run twice. A user it finds disabled has their queued mail stopped as the worker's
UserDisabled would have: case mail withheld, agent mail sent to the support address instead."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from casefold_events.contracts import UserDisabled, UserEnabled
from casefold_events.envelope import DecodeError, decode
from notifications.adapters import directory
from notifications.app import handlers
from notifications.config import Settings

ACCOUNT_STATE_EVENTS = frozenset({"UserDisabled", "UserEnabled"})


@dataclass(frozen=True)
class Backfilled:
    partitions: int
    events: int  # UserDisabled / UserEnabled read
    changed: int  # users whose flag was set by one of them


async def backfill_disabled_users(settings: Settings, pool: asyncpg.Pool, poll_ms: int = 1000) -> Backfilled:
    topic = settings.identity_topic
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers, **settings.kafka_options())
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
    finally:
        await admin.close()
    partitions = [TopicPartition(topic, p["partition"]) for p in described.get("partitions", ())]
    if not partitions:
        raise LookupError(f"topic {topic} has no partitions (does it exist?)")
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers, group_id=None,
                                enable_auto_commit=False, auto_offset_reset="earliest",
                                **settings.kafka_options())  # fmt: skip
    await consumer.start()
    try:
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        # An explicit seek: seek_to_beginning right after assign() can lose to the reset that assign() started.
        for tp, offset in (await consumer.beginning_offsets(partitions)).items():
            consumer.seek(tp, offset)
        events = changed = 0
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            fetched = await consumer.getmany(timeout_ms=poll_ms)
            async with pool.acquire() as conn, conn.transaction():
                for records in fetched.values():
                    for record in records:
                        try:
                            envelope = decode(record.value or b"")
                        except DecodeError:
                            continue  # a poison message: the worker dead-lettered it
                        if envelope.event_type not in ACCOUNT_STATE_EVENTS:
                            continue
                        event = envelope.event()
                        if isinstance(event, UserDisabled | UserEnabled):
                            events += 1
                            disabled = isinstance(event, UserDisabled)
                            version = envelope.stream_version
                            if await directory.set_disabled(conn, event.user_id, disabled=disabled,
                                                            version=version):  # fmt: skip
                                changed += 1
                                if disabled:
                                    await handlers.stop_queued_mail(conn, event.user_id, settings.support_address)
        return Backfilled(len(partitions), events, changed)
    finally:
        await consumer.stop()
