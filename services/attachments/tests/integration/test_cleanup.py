"""Uploads never linked are collected after the TTL; a blob shared with a kept upload stays."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from attachments_builders import CONTENT_TYPE, LOG, attachment_added, case_opened, envelope, file_part, multipart, ref
from attachments_harness import Service

from attachments.app.cleanup import collect_unlinked
from attachments.app.projection import apply_case_event

pytestmark = pytest.mark.integration

OWNER = uuid.uuid4()


async def upload(service: Service, content: bytes) -> dict[str, Any]:
    response = await service.client.post(
        "/api/attachments",
        content=multipart([file_part(content, "c.log")]),
        headers={**service.auth(OWNER), "Content-Type": CONTENT_TYPE},
    )
    assert response.status_code == 201
    item: dict[str, Any] = response.json()[0]
    return item


async def age(service: Service, attachment_id: str, hours: float) -> None:
    async with service.pool.acquire() as conn:
        await conn.execute(
            "UPDATE attachments SET uploaded_at = now() - make_interval(secs => $2) WHERE id = $1",
            uuid.UUID(attachment_id), hours * 3600,
        )  # fmt: skip


def blob_path(service: Service, sha256: str) -> Path:
    return Path(service.settings.storage_dir) / "blobs" / sha256[:2] / sha256[2:4] / sha256


async def collect(service: Service) -> int:
    return await collect_unlinked(service.pool, service.app.state.storage, older_than=timedelta(hours=25))


async def test_an_old_unlinked_upload_and_its_blob_are_removed(service: Service) -> None:
    old = await upload(service, LOG + uuid.uuid4().bytes.hex().encode())
    fresh = await upload(service, LOG + uuid.uuid4().bytes.hex().encode())
    await age(service, old["id"], 26)
    assert await collect(service) == 1
    headers = service.auth(OWNER)
    assert (await service.client.get(f"/api/attachments/{old['id']}", headers=headers)).status_code == 404
    assert not blob_path(service, old["sha256"]).exists()
    assert (await service.client.get(f"/api/attachments/{fresh['id']}", headers=headers)).status_code == 200


async def test_a_linked_upload_is_kept_however_old(service: Service) -> None:
    item = await upload(service, LOG + uuid.uuid4().bytes.hex().encode())
    case_id = uuid.uuid4()
    async with service.pool.acquire() as conn, conn.transaction():
        await apply_case_event(conn, envelope(case_opened(case_id, OWNER), case_id, 1, OWNER))
        await apply_case_event(conn, envelope(attachment_added(case_id, OWNER, ref(item)), case_id, 2, OWNER))
    await age(service, item["id"], 1000)
    await collect(service)
    assert blob_path(service, item["sha256"]).exists()
    assert (await service.client.get(f"/api/attachments/{item['id']}", headers=service.auth(OWNER))).status_code == 200


async def test_a_blob_shared_with_a_kept_upload_survives(service: Service) -> None:
    content = LOG + uuid.uuid4().bytes.hex().encode()
    old, again = await upload(service, content), await upload(service, content)
    await age(service, old["id"], 30)
    assert await collect(service) == 1
    assert blob_path(service, again["sha256"]).exists()
    assert (await service.client.get(f"/api/attachments/{again['id']}", headers=service.auth(OWNER))).content == content


async def test_nothing_to_collect_is_a_no_op(service: Service) -> None:
    assert await collect_unlinked(service.pool, service.app.state.storage, older_than=timedelta(days=365),
                                  now=datetime.now(UTC)) == 0  # fmt: skip
