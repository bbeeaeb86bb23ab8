"""Uploads never linked are collected after the TTL, but only once the case events that could link them are in;
marked first, deleted a grace later; a blob shared with a kept upload stays."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from attachments_builders import CONTENT_TYPE, LOG, attachment_added, case_opened, envelope, file_part, multipart, ref
from attachments_harness import Service

from attachments.adapters.consumer_progress import KafkaConsumerProgress
from attachments.app.cleanup import Collection, collect_unlinked
from attachments.app.projection import apply_case_event
from attachments.worker import CleanupLoop
from casefold_events.consumer import ConsumerRunner
from casefold_events.envelope import Envelope, encode, kafka_headers
from casefold_local.procs import free_port

pytestmark = pytest.mark.integration

OWNER = uuid.uuid4()
TTL = timedelta(hours=25)
PURGE_GRACE = timedelta(days=7)


async def upload(service: Service, content: bytes) -> dict[str, Any]:
    response = await service.client.post(
        "/api/attachments",
        content=multipart([file_part(content, "c.log")]),
        headers={**service.auth(OWNER), "Content-Type": CONTENT_TYPE},
    )
    assert response.status_code == 201
    item: dict[str, Any] = response.json()[0]
    return item


async def fresh_upload(service: Service) -> dict[str, Any]:
    return await upload(service, LOG + uuid.uuid4().bytes.hex().encode())


async def age(service: Service, attachment_id: str, hours: float) -> None:
    async with service.pool.acquire() as conn:
        await conn.execute(
            "UPDATE attachments SET uploaded_at = now() - make_interval(secs => $2) WHERE id = $1",
            uuid.UUID(attachment_id), hours * 3600,
        )  # fmt: skip


async def events_applied_until(service: Service, at: datetime) -> None:
    """Where the consumer's watermark stands (set outright: the module's tests share one database)."""
    async with service.pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO case_events_applied VALUES (true, $1) ON CONFLICT (singleton) DO UPDATE SET occurred_at = $1",
            at,
        )


async def marked(service: Service, item: dict[str, Any]) -> bool:
    query = "SELECT collect_after IS NOT NULL FROM attachments WHERE id = $1"
    return bool(await service.pool.fetchval(query, uuid.UUID(item["id"])))


def blob_path(service: Service, sha256: str) -> Path:
    return Path(service.settings.storage_dir) / "blobs" / sha256[:2] / sha256[2:4] / sha256


def progress(service: Service, bootstrap: str, topic: str, group: str | None = None) -> KafkaConsumerProgress:
    return KafkaConsumerProgress(bootstrap, group or f"attachments-{uuid.uuid4().hex[:8]}", topic, {}, timeout=15)


async def collect(service: Service, lag: KafkaConsumerProgress, now: datetime | None = None) -> Collection:
    # A round on a caught-up consumer. The broker's answer to a lag question can time out on a loaded machine, and
    # the round then rightly holds back (tested on its own below); asked again, as the next round would.
    for _ in range(3):
        collection = await collect_unlinked(service.pool, service.app.state.storage, lag, older_than=TTL,
                                            purge_grace=PURGE_GRACE, now=now)  # fmt: skip
        if collection.held_back != "the consumer's lag is unknown":
            break
    return collection


async def status(service: Service, item: dict[str, Any]) -> int:
    response = await service.client.get(f"/api/attachments/{item['id']}", headers=service.auth(OWNER))
    return response.status_code


async def publish(bootstrap: str, topic: str, *envelopes: Envelope) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for e in envelopes:
            await producer.send_and_wait(topic, encode(e), key=e.stream_id.encode(), headers=kafka_headers(e))
    finally:
        await producer.stop()


async def test_an_old_unlinked_upload_is_marked_then_deleted_after_the_purge_grace(
    service: Service, kafka_bootstrap: str, kafka_topic: str
) -> None:
    old, fresh = await fresh_upload(service), await fresh_upload(service)
    await age(service, old["id"], 26)
    await events_applied_until(service, datetime.now(UTC))
    caught_up = progress(service, kafka_bootstrap, kafka_topic)

    first = await collect(service, caught_up)

    assert first.marked >= 1
    assert await marked(service, old)
    assert not await marked(service, fresh)
    assert blob_path(service, old["sha256"]).exists(), "soft deletion keeps the bytes"
    later = await collect(service, caught_up, now=datetime.now(UTC) + PURGE_GRACE + timedelta(minutes=1))
    assert later.purged >= 1
    assert await status(service, old) == 404
    assert not blob_path(service, old["sha256"]).exists()
    assert await status(service, fresh) == 200


async def test_nothing_is_collected_while_the_consumer_is_behind(
    service: Service, kafka_bootstrap: str, kafka_topic: str
) -> None:
    """Cases accepted the receipt in time, but the event linking it is still unread on Kafka (a consumer outage)."""
    item, orphan = await fresh_upload(service), await fresh_upload(service)
    case_id = uuid.uuid4()
    linking = envelope(case_opened(case_id, OWNER, [ref(item)]), case_id, 1, OWNER)
    await publish(kafka_bootstrap, kafka_topic, linking)
    for attachment in (item, orphan):
        await age(service, attachment["id"], 1000)
    await events_applied_until(service, datetime.now(UTC))  # other partitions moved on
    group = f"attachments-{uuid.uuid4().hex[:8]}"
    behind = progress(service, kafka_bootstrap, kafka_topic, group)

    held = await collect(service, behind, now=datetime.now(UTC) + PURGE_GRACE * 2)

    assert held == Collection(held_back="the consumer's lag is 1")
    assert blob_path(service, item["sha256"]).exists()
    consumer = ConsumerRunner(group, kafka_bootstrap, [kafka_topic], service.pool, apply_case_event)
    await consumer.start()
    try:
        async with asyncio.timeout(60):
            while await behind.lag() != 0:
                await asyncio.sleep(0.2)
    finally:
        await consumer.stop()
    await collect(service, behind)
    assert await marked(service, orphan)
    assert not await marked(service, item)  # the late event linked it
    assert await status(service, item) == 200
    assert blob_path(service, item["sha256"]).exists()


async def test_nothing_is_collected_while_kafka_cannot_be_reached(service: Service, kafka_topic: str) -> None:
    item = await fresh_upload(service)
    await age(service, item["id"], 1000)
    await events_applied_until(service, datetime.now(UTC))
    unreachable = progress(service, f"127.0.0.1:{free_port()}", kafka_topic)

    assert await collect(service, unreachable) == Collection(held_back="the consumer's lag is unknown")
    assert await status(service, item) == 200


async def test_the_cut_off_follows_the_events_applied_not_the_clock(
    service: Service, kafka_bootstrap: str, kafka_topic: str
) -> None:
    """Cases' relay was down for two days: no event after the upload's receipt expiry has come in yet."""
    item = await fresh_upload(service)
    await age(service, item["id"], 26)
    await events_applied_until(service, datetime.now(UTC) - timedelta(hours=30))

    await collect(service, progress(service, kafka_bootstrap, kafka_topic))

    assert not await marked(service, item)
    await events_applied_until(service, datetime.now(UTC))
    await collect(service, progress(service, kafka_bootstrap, kafka_topic))
    assert await marked(service, item)


async def test_a_link_during_the_purge_grace_saves_the_upload(
    service: Service, kafka_bootstrap: str, kafka_topic: str
) -> None:
    item = await fresh_upload(service)
    await age(service, item["id"], 26)
    await events_applied_until(service, datetime.now(UTC))
    caught_up = progress(service, kafka_bootstrap, kafka_topic)
    await collect(service, caught_up)
    assert await marked(service, item)
    case_id = uuid.uuid4()
    async with service.pool.acquire() as conn, conn.transaction():
        await apply_case_event(conn, envelope(case_opened(case_id, OWNER, [ref(item)]), case_id, 1, OWNER))

    await collect(service, caught_up, now=datetime.now(UTC) + PURGE_GRACE * 2)

    assert not await marked(service, item)
    assert blob_path(service, item["sha256"]).exists()
    assert await status(service, item) == 200


async def test_a_linked_upload_is_kept_however_old(service: Service, kafka_bootstrap: str, kafka_topic: str) -> None:
    item = await fresh_upload(service)
    case_id = uuid.uuid4()
    async with service.pool.acquire() as conn, conn.transaction():
        await apply_case_event(conn, envelope(case_opened(case_id, OWNER), case_id, 1, OWNER))
        await apply_case_event(conn, envelope(attachment_added(case_id, OWNER, ref(item)), case_id, 2, OWNER))
    await age(service, item["id"], 1000)
    caught_up = progress(service, kafka_bootstrap, kafka_topic)
    await collect(service, caught_up)
    await collect(service, caught_up, now=datetime.now(UTC) + PURGE_GRACE * 2)
    assert blob_path(service, item["sha256"]).exists()
    assert await status(service, item) == 200


async def test_a_blob_shared_with_a_kept_upload_survives(
    service: Service, kafka_bootstrap: str, kafka_topic: str
) -> None:
    content = LOG + uuid.uuid4().bytes.hex().encode()
    old, again = await upload(service, content), await upload(service, content)
    await age(service, old["id"], 30)
    await events_applied_until(service, datetime.now(UTC))
    caught_up = progress(service, kafka_bootstrap, kafka_topic)
    await collect(service, caught_up)
    await collect(service, caught_up, now=datetime.now(UTC) + PURGE_GRACE * 2)
    assert await status(service, old) == 404
    assert blob_path(service, again["sha256"]).exists()
    assert (await service.client.get(f"/api/attachments/{again['id']}", headers=service.auth(OWNER))).content == content


async def test_every_case_event_moves_the_watermark_forward_only(service: Service) -> None:
    await events_applied_until(service, datetime.now(UTC) - timedelta(days=3))
    case_id = uuid.uuid4()
    newer = envelope(case_opened(case_id, OWNER), case_id, 1, OWNER)
    older = newer.model_copy(update={"occurred_at": newer.occurred_at - timedelta(days=1)})
    async with service.pool.acquire() as conn, conn.transaction():
        await apply_case_event(conn, newer)
        await apply_case_event(conn, older)  # a redelivery, or a slower partition
    assert await service.pool.fetchval("SELECT occurred_at FROM case_events_applied") == newer.occurred_at


async def test_the_worker_asks_kafka_about_its_own_group_on_the_cases_topic(
    service: Service, kafka_bootstrap: str, kafka_topic: str
) -> None:
    group = f"attachments-{uuid.uuid4().hex[:8]}"
    settings = service.settings.model_copy(
        update={"kafka_bootstrap_servers": kafka_bootstrap, "cases_topic": kafka_topic, "consumer_name": group}
    )
    loop = CleanupLoop(settings, service.pool, service.app.state.storage)
    item = await fresh_upload(service)
    await age(service, item["id"], 1000)
    await events_applied_until(service, datetime.now(UTC))
    case_id = uuid.uuid4()
    await publish(kafka_bootstrap, kafka_topic, envelope(case_opened(case_id, OWNER, [ref(item)]), case_id, 1, OWNER))

    assert (await loop.cleanup_once()).held_back == "the consumer's lag is 1"
    assert not await marked(service, item)
