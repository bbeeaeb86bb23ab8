"""The case projection from real Kafka, and uploads aimed at a case (closed, someone else's, over its limits)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from attachments_builders import (
    CONTENT_TYPE,
    LOG,
    attachment_added,
    case_closed,
    case_opened,
    envelope,
    file_part,
    multipart,
    part,
    png_bytes,
    ref,
)
from attachments_harness import Service

from attachments.app.projection import apply_case_event
from attachments.worker import Worker
from casefold_events.envelope import Envelope, encode, kafka_headers

pytestmark = pytest.mark.integration

OWNER, OTHER, AGENT = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


async def apply(service: Service, *envelopes: Envelope) -> None:
    for item in envelopes:
        async with service.pool.acquire() as conn, conn.transaction():
            await apply_case_event(conn, item)


async def open_case(service: Service, owner: uuid.UUID = OWNER) -> uuid.UUID:
    case_id = uuid.uuid4()
    await apply(service, envelope(case_opened(case_id, owner), case_id, 1, owner))
    return case_id


async def upload_to(service: Service, case_id: uuid.UUID, *files: bytes, user: uuid.UUID = OWNER) -> Any:
    parts = [part("case_id", str(case_id).encode())] + [file_part(f, f"f{i}.log") for i, f in enumerate(files)]
    return await service.client.post(
        "/api/attachments", content=multipart(parts), headers={**service.auth(user), "Content-Type": CONTENT_TYPE}
    )


async def until(check: Callable[[], Coroutine[Any, Any, bool]], seconds: float = 30) -> None:
    async with asyncio.timeout(seconds):
        while not await check():
            await asyncio.sleep(0.1)


async def test_events_from_kafka_link_uploads_and_grant_access(
    service: Service, kafka_bootstrap: str, kafka_topic: str
) -> None:
    settings = service.settings.model_copy(
        update={"cases_topic": kafka_topic, "consumer_name": f"attachments-{uuid.uuid4().hex[:8]}",
                "kafka_bootstrap_servers": kafka_bootstrap}
    )  # fmt: skip
    response = await service.client.post(
        "/api/attachments",
        content=multipart([file_part(png_bytes(), "a.png"), file_part(LOG, "b.log")]),
        headers={**service.auth(OWNER), "Content-Type": CONTENT_TYPE},
    )
    first, second = response.json()
    case_id = uuid.uuid4()
    events = [
        envelope(case_opened(case_id, OWNER, [ref(first)]), case_id, 1, OWNER),
        envelope(attachment_added(case_id, OWNER, ref(second)), case_id, 2, OWNER),
        envelope(case_closed(case_id, OWNER), case_id, 3, OWNER),
    ]
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    worker = Worker(settings, service.pool, service.app.state.storage)
    await worker.start()
    try:
        for item in [*events, events[1]]:  # a redelivery is a no-op
            await producer.send_and_wait(
                kafka_topic, encode(item), key=item.stream_id.encode(), headers=kafka_headers(item)
            )

        async def closed() -> bool:
            async with service.pool.acquire() as conn:
                status = await conn.fetchval("SELECT status FROM case_access WHERE case_id = $1", case_id)
                return bool(status == "closed")

        await until(closed)
    finally:
        await worker.stop()
        await producer.stop()
    for item in (first, second):
        path = f"/api/attachments/{item['id']}"
        assert (await service.client.get(path, headers=service.auth(AGENT, "agent"))).status_code == 200
        assert (await service.client.get(path, headers=service.auth(OTHER))).status_code == 404
    async with service.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM attachment_links WHERE case_id = $1", case_id) == 2


async def test_upload_for_an_open_case_of_the_caller_is_accepted(service: Service) -> None:
    case_id = await open_case(service)
    response = await upload_to(service, case_id, LOG)
    assert response.status_code == 201, response.text


async def test_agents_may_upload_to_any_open_case(service: Service) -> None:
    case_id = await open_case(service)
    response = await service.client.post(
        "/api/attachments",
        content=multipart([part("case_id", str(case_id).encode()), file_part(LOG, "x.log")]),
        headers={**service.auth(AGENT, "agent"), "Content-Type": CONTENT_TYPE},
    )
    assert response.status_code == 201


async def test_upload_for_someone_elses_case_is_404(service: Service) -> None:
    case_id = await open_case(service, owner=OTHER)
    response = await upload_to(service, case_id, LOG)
    assert response.status_code == 404
    assert (await upload_to(service, uuid.uuid4(), LOG)).status_code == 404


async def test_upload_for_a_closed_case_is_409_and_nothing_is_stored(service: Service) -> None:
    case_id = await open_case(service)
    await apply(service, envelope(case_closed(case_id, OWNER), case_id, 2, OWNER))
    async with service.pool.acquire() as conn:
        before = await conn.fetchval("SELECT count(*) FROM attachments")
    response = await upload_to(service, case_id, LOG + b"unique closed")
    assert response.status_code == 409
    assert "closed" in response.json()["detail"]
    async with service.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM attachments") == before


async def test_a_case_holds_a_limited_number_of_attachments(service: Service) -> None:
    case_id = await open_case(service)
    assert (await upload_to(service, case_id, LOG, LOG + b"2", LOG + b"3")).status_code == 201
    response = await upload_to(service, case_id, LOG + b"4", LOG + b"5")
    assert response.status_code == 409
    assert "at most 4" in response.json()["detail"]


async def test_a_case_holds_a_limited_total_of_bytes(service: Service) -> None:
    case_id = await open_case(service)
    big = LOG * (900_000 // len(LOG))
    assert (await upload_to(service, case_id, big, big + b"1", big + b"2")).status_code == 201
    response = await upload_to(service, case_id, big + b"3")
    assert response.status_code == 413
    assert "bytes of attachments" in response.json()["detail"]


async def test_case_id_must_be_a_uuid(service: Service) -> None:
    response = await service.client.post(
        "/api/attachments",
        content=multipart([part("case_id", b"../1"), file_part(LOG, "x.log")]),
        headers={**service.auth(OWNER), "Content-Type": CONTENT_TYPE},
    )
    assert response.status_code == 422
