"""Downloads: who may read what (404 otherwise), the safety headers, length and single ranges."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from attachments_builders import (
    CONTENT_TYPE,
    LOG,
    attachment_added,
    case_opened,
    envelope,
    file_part,
    multipart,
    png_bytes,
    ref,
)
from attachments_harness import Service

from attachments.app.projection import apply_case_event

pytestmark = pytest.mark.integration

OWNER, STRANGER, AGENT = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


async def upload(service: Service, content: bytes, filename: str, user: uuid.UUID = OWNER) -> dict[str, Any]:
    response = await service.client.post(
        "/api/attachments",
        content=multipart([file_part(content, filename)]),
        headers={**service.auth(user), "Content-Type": CONTENT_TYPE},
    )
    assert response.status_code == 201, response.text
    item: dict[str, Any] = response.json()[0]
    return item


async def get(service: Service, path: str, user: uuid.UUID, role: str = "customer", **headers: str) -> httpx.Response:
    return await service.client.get(path, headers={**service.auth(user, role), **headers})


async def link_to_new_case(service: Service, uploaded: dict[str, Any], owner: uuid.UUID = OWNER) -> uuid.UUID:
    case_id = uuid.uuid4()
    async with service.pool.acquire() as conn, conn.transaction():
        await apply_case_event(conn, envelope(case_opened(case_id, owner), case_id, 1, owner))
        await apply_case_event(conn, envelope(attachment_added(case_id, owner, ref(uploaded)), case_id, 2, owner))
    return case_id


async def test_the_uploader_downloads_an_unlinked_file_with_safety_headers(service: Service) -> None:
    png = png_bytes(extra=3000)
    uploaded = await upload(service, png, "Écran 1.png")
    response = await get(service, f"/api/attachments/{uploaded['id']}", OWNER)
    assert response.status_code == 200
    assert response.content == png
    assert response.headers["content-type"] == "image/png"
    assert response.headers["content-length"] == str(len(png))
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"_cran 1.png\"; filename*=UTF-8''%C3%89cran%201.png"
    )


async def test_nobody_else_sees_an_unlinked_upload_not_even_an_agent(service: Service) -> None:
    uploaded = await upload(service, LOG, "app.log")
    for user, role in ((STRANGER, "customer"), (AGENT, "agent")):
        assert (await get(service, f"/api/attachments/{uploaded['id']}", user, role)).status_code == 404
        assert (await get(service, f"/api/attachments/{uploaded['id']}/meta", user, role)).status_code == 404


async def test_once_linked_the_case_owner_and_agents_read_it_and_strangers_get_404(service: Service) -> None:
    uploaded = await upload(service, LOG, "linked.log")
    case_id = await link_to_new_case(service, uploaded)
    path = f"/api/attachments/{uploaded['id']}"
    assert (await get(service, path, OWNER)).status_code == 200
    assert (await get(service, path, AGENT, "agent")).status_code == 200
    assert (await get(service, path, uuid.uuid4(), "admin")).status_code == 200
    assert (await get(service, path, STRANGER)).status_code == 404
    meta = (await get(service, path + "/meta", AGENT, "agent")).json()
    assert meta["case_id"] == str(case_id)
    assert meta["uploaded_by"] == str(OWNER)
    assert meta["linked_at"] is not None


async def test_an_agents_upload_linked_to_a_customers_case_is_readable_by_that_customer(service: Service) -> None:
    uploaded = await upload(service, LOG, "from-agent.log", user=AGENT)
    await link_to_new_case(service, uploaded, owner=OWNER)
    assert (await get(service, f"/api/attachments/{uploaded['id']}", OWNER)).status_code == 200


async def test_unknown_ids_and_bad_ids_are_404_and_422(service: Service) -> None:
    assert (await get(service, f"/api/attachments/{uuid.uuid4()}", OWNER)).status_code == 404
    assert (await get(service, "/api/attachments/not-a-uuid", OWNER)).status_code == 422


async def test_downloads_need_a_token(service: Service) -> None:
    uploaded = await upload(service, LOG, "x.log")
    assert (await service.client.get(f"/api/attachments/{uploaded['id']}")).status_code == 401
    assert (await service.client.get(f"/api/attachments/{uploaded['id']}/meta")).status_code == 401


async def test_a_single_range_is_206_with_content_range(service: Service) -> None:
    content = bytes(LOG * 100)
    uploaded = await upload(service, content, "big.log")
    response = await get(service, f"/api/attachments/{uploaded['id']}", OWNER, Range="bytes=100-199")
    assert response.status_code == 206
    assert response.content == content[100:200]
    assert response.headers["content-range"] == f"bytes 100-199/{len(content)}"
    assert response.headers["content-length"] == "100"
    suffix = await get(service, f"/api/attachments/{uploaded['id']}", OWNER, Range="bytes=-10")
    assert suffix.content == content[-10:]


async def test_an_unsatisfiable_range_is_416(service: Service) -> None:
    uploaded = await upload(service, LOG, "small.log")
    response = await get(service, f"/api/attachments/{uploaded['id']}", OWNER, Range="bytes=999999-")
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{len(LOG)}"


async def test_a_file_whose_bytes_are_gone_is_a_clear_410_not_a_cut_download(service: Service) -> None:
    uploaded = await upload(service, bytes(LOG * 10), "lost.log")
    async with service.pool.acquire() as conn:
        key = await conn.fetchval("SELECT storage_key FROM attachments WHERE id = $1", uuid.UUID(uploaded["id"]))
    await service.app.state.storage.delete(key)  # a lost volume, an object deleted by hand

    for extra in ({}, {"Range": "bytes=0-9"}):
        response = await get(service, f"/api/attachments/{uploaded['id']}", OWNER, **extra)
        assert response.status_code == 410
        assert response.headers["content-type"] == "application/problem+json"
        assert "no longer available" in response.json()["detail"]
