"""The whole service on the S3 backend: upload, ranged download, refusal leaves no object behind, temporaries swept."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from attachments_builders import CONTENT_TYPE, ELF, LOG, file_part, multipart, png_bytes
from attachments_harness import S3Server, Service, running_service, service_settings

from casefold_testing.tokens import TestTokenIssuer

pytestmark = pytest.mark.integration

OWNER = uuid.uuid4()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def s3_service(
    database: str, s3_server: S3Server, issuer: TestTokenIssuer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Service]:
    settings = service_settings(
        database,
        tmp_path_factory.mktemp("unused"),
        storage_backend="s3",
        s3_endpoint_url=s3_server.endpoint_url,
        s3_access_key_id=s3_server.access_key_id,
        s3_secret_access_key=s3_server.secret_access_key,
        s3_bucket=f"svc-{uuid.uuid4().hex[:10]}",
        s3_part_bytes=5 * 1024 * 1024,
        max_file_bytes=12 * 1024 * 1024,
    )
    async with running_service(settings, issuer) as service:
        yield service


async def objects(service: Service) -> list[str]:
    storage = service.app.state.storage
    listed = await storage.client.list_objects_v2(Bucket=storage.bucket)
    return sorted(o["Key"] for o in listed.get("Contents", []))


async def test_upload_and_download_through_s3(s3_service: Service, tmp_path: Path) -> None:
    big = png_bytes(extra=11 * 1024 * 1024)  # three parts: multipart upload, then copy to its final key
    response = await s3_service.client.post(
        "/api/attachments",
        content=multipart([file_part(big, "huge.png"), file_part(LOG, "a.log")]),
        headers={**s3_service.auth(OWNER), "Content-Type": CONTENT_TYPE},
    )
    assert response.status_code == 201, response.text
    first = response.json()[0]
    path = f"/api/attachments/{first['id']}"
    whole = await s3_service.client.get(path, headers=s3_service.auth(OWNER))
    assert whole.content == big
    ranged = await s3_service.client.get(path, headers={**s3_service.auth(OWNER), "Range": "bytes=6000000-6000099"})
    assert ranged.status_code == 206
    assert ranged.content == big[6_000_000:6_000_100]
    assert all(key.startswith("blobs/") for key in await objects(s3_service))


async def test_a_refused_request_leaves_no_object(s3_service: Service) -> None:
    before = await objects(s3_service)
    payload = png_bytes(extra=6 * 1024 * 1024) + os.urandom(16)
    response = await s3_service.client.post(
        "/api/attachments",
        content=multipart([file_part(payload, "ok.png"), file_part(ELF, "bad.png")]),
        headers={**s3_service.auth(OWNER), "Content-Type": CONTENT_TYPE},
    )
    assert response.status_code == 415
    assert await objects(s3_service) == before


async def test_temporaries_a_crashed_upload_left_behind_are_swept(s3_service: Service) -> None:
    storage = s3_service.app.state.storage
    started = await storage.client.create_multipart_upload(Bucket=storage.bucket, Key="tmp/crashed-multipart")
    await storage.client.upload_part(Bucket=storage.bucket, Key="tmp/crashed-multipart", UploadId=started["UploadId"],
                                     PartNumber=1, Body=b"x" * (5 * 1024 * 1024))  # fmt: skip
    await storage.client.put_object(Bucket=storage.bucket, Key="tmp/crashed-put", Body=b"half a file")
    kept_blobs = [key for key in await objects(s3_service) if key.startswith("blobs/")]

    assert await storage.stale_temporaries(older_than_seconds=3600) == 0  # still young: perhaps in use
    await asyncio.sleep(1.1)  # S3 times have whole seconds
    assert await storage.stale_temporaries(older_than_seconds=1) == 2

    uploads = await storage.client.list_multipart_uploads(Bucket=storage.bucket)
    assert uploads.get("Uploads", []) == []
    assert await objects(s3_service) == kept_blobs
