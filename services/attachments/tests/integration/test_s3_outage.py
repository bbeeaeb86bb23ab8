"""The object store goes away under the running service: 503 with Retry-After meanwhile, nothing half-stored."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from attachments_builders import CONTENT_TYPE, LOG, file_part, multipart
from attachments_harness import S3_KEY, S3_SECRET, running_service, service_settings, start_s3, stop_s3

from casefold_local.procs import free_port
from casefold_testing.tokens import TestTokenIssuer

pytestmark = pytest.mark.integration

OWNER = uuid.uuid4()


async def test_an_unreachable_object_store_is_a_503_and_the_upload_works_once_it_is_back(
    database: str, issuer: TestTokenIssuer, tmp_path: Path
) -> None:
    port = free_port()
    root = tmp_path / "s3"
    root.mkdir()
    s3 = start_s3(root, port)
    settings = service_settings(
        database, tmp_path / "unused", storage_backend="s3", s3_endpoint_url=f"http://127.0.0.1:{port}",
        s3_access_key_id=S3_KEY, s3_secret_access_key=S3_SECRET, s3_bucket=f"outage-{uuid.uuid4().hex[:10]}",
        s3_part_bytes=5 * 1024 * 1024,
    )  # fmt: skip
    try:
        async with running_service(settings, issuer) as service:
            headers = {**service.auth(OWNER), "Content-Type": CONTENT_TYPE}
            body = multipart([file_part(LOG, "during.log")])
            await asyncio.to_thread(stop_s3, s3)

            down = await service.client.post("/api/attachments", content=body, headers=headers)
            assert down.status_code == 503, down.text
            assert down.headers["retry-after"] == "5"
            async with service.pool.acquire() as conn:
                assert await conn.fetchval("SELECT count(*) FROM attachments WHERE uploaded_by = $1", OWNER) == 0

            s3 = await asyncio.to_thread(start_s3, root, port)
            up = await service.client.post("/api/attachments", content=body, headers=headers)
            assert up.status_code == 201, up.text
            download = await service.client.get(f"/api/attachments/{up.json()[0]['id']}", headers=service.auth(OWNER))
            assert download.content == LOG
    finally:
        stop_s3(s3)
