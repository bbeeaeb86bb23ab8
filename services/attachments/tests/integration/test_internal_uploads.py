"""The private route notifications stores a reply's attachments through: services only, the same sniffing and
limits as an upload, the same receipt, and one attachment per named id however often it is sent."""

from __future__ import annotations

import hashlib
import uuid

import httpx
import pytest
from attachments_builders import CONTENT_TYPE, ELF, LOG, file_part, multipart
from attachments_harness import Service

from attachments.config import DEV_INTERNAL_API_KEY
from casefold_events import receipts

pytestmark = pytest.mark.integration

SERVICE = {"Authorization": f"Bearer {DEV_INTERNAL_API_KEY}", "Content-Type": CONTENT_TYPE}


async def _put(service: Service, attachment_id: uuid.UUID, author: uuid.UUID, body: bytes,
               headers: dict[str, str] = SERVICE) -> httpx.Response:  # fmt: skip
    response: httpx.Response = await service.client.put(
        f"/internal/attachments/{attachment_id}",
        params={"uploaded_by": str(author), "role": "customer"},
        content=body,
        headers=headers,
    )
    return response


async def test_a_file_is_stored_for_its_author_and_downloads_with_the_same_sha256(service: Service) -> None:
    author, attachment_id = uuid.uuid4(), uuid.uuid4()

    response = await _put(service, attachment_id, author, multipart([file_part(LOG, "server.log", "text/plain")]))

    assert response.status_code == 201, response.text
    stored = response.json()
    assert stored["id"] == str(attachment_id)
    assert stored["sha256"] == hashlib.sha256(LOG).hexdigest()
    receipt = receipts.verify(service.settings.receipt_key_bytes, stored["reference"])
    assert receipt.uploaded_by == author
    download = await service.client.get(f"/api/attachments/{attachment_id}", headers=service.auth(author))
    assert download.status_code == 200
    assert hashlib.sha256(download.content).hexdigest() == stored["sha256"]


async def test_the_same_id_twice_is_one_attachment(service: Service) -> None:
    author, attachment_id = uuid.uuid4(), uuid.uuid4()
    body = multipart([file_part(LOG, "server.log", "text/plain")])

    first = await _put(service, attachment_id, author, body)
    again = await _put(service, attachment_id, author, body)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    async with service.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM attachments WHERE id = $1", attachment_id) == 1
    other = await _put(service, attachment_id, uuid.uuid4(), body)
    assert other.status_code == 409


async def test_a_refused_type_is_415_as_for_an_upload(service: Service) -> None:
    body = multipart([file_part(ELF, "tool.exe", "application/x-msdownload")])

    response = await _put(service, uuid.uuid4(), uuid.uuid4(), body)

    assert response.status_code == 415
    assert "tool.exe" in response.json()["detail"]


async def test_a_file_over_the_limit_is_413(service: Service) -> None:
    big = b"x" * (service.settings.max_file_bytes + 1)

    response = await _put(service, uuid.uuid4(), uuid.uuid4(), multipart([file_part(big, "big.log", "text/plain")]))

    assert response.status_code == 413


async def test_only_services_may_call_it(service: Service) -> None:
    body = multipart([file_part(LOG, "server.log", "text/plain")])
    wrong = {**SERVICE, "Authorization": "Bearer nope"}

    assert (await _put(service, uuid.uuid4(), uuid.uuid4(), body, wrong)).status_code == 401
    user_token = {**SERVICE, **service.auth(uuid.uuid4())}
    assert (await _put(service, uuid.uuid4(), uuid.uuid4(), body, user_token)).status_code == 401
