"""One contract, two backends: the filesystem and a real S3-compatible server (rclone serve s3)."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from attachments_harness import S3Server
from botocore.exceptions import ClientError

from attachments.adapters.fs_storage import FilesystemStorage
from attachments.adapters.s3_storage import S3Storage, open_s3_storage
from attachments.adapters.storage import BlobMissing, Storage

pytestmark = pytest.mark.integration

PART = 5 * 1024 * 1024


@pytest_asyncio.fixture(params=["filesystem", "s3"])
async def storage(request: pytest.FixtureRequest, tmp_path: Path, s3_server: S3Server) -> AsyncIterator[Storage]:
    if request.param == "filesystem":
        yield FilesystemStorage(tmp_path / "blobs")
        return
    async with open_s3_storage(
        s3_server.endpoint_url,
        f"contract-{uuid.uuid4().hex[:10]}",
        region="us-east-1",
        access_key_id=s3_server.access_key_id,
        secret_access_key=s3_server.secret_access_key,
        part_bytes=PART,
        create_bucket=True,
    ) as s3:
        yield s3


async def write(storage: Storage, data: bytes, chunk: int = 64 * 1024) -> str:
    writer = await storage.open_writer()
    for i in range(0, len(data), chunk):
        await writer.write(data[i : i + chunk])
    return await writer.commit(hashlib.sha256(data).hexdigest())


async def read(storage: Storage, key: str, byte_range: tuple[int, int] | None = None) -> bytes:
    return b"".join([chunk async for chunk in storage.open_reader(key, byte_range)])


async def temporaries(storage: Storage) -> list[str]:
    if isinstance(storage, FilesystemStorage):
        return [p.name for p in (storage.root / "tmp").iterdir()]
    assert isinstance(storage, S3Storage)
    listed = await storage.client.list_objects_v2(Bucket=storage.bucket, Prefix="tmp/")
    try:
        uploads = (await storage.client.list_multipart_uploads(Bucket=storage.bucket)).get("Uploads", [])
    except ClientError as exc:  # rclone answers NoSuchUpload when there is none
        if exc.response.get("Error", {}).get("Code") != "NoSuchUpload":
            raise
        uploads = []
    return [o["Key"] for o in listed.get("Contents", [])] + [u["Key"] for u in uploads]


async def test_a_small_blob_round_trips_under_its_content_address(storage: Storage) -> None:
    data = b"hello attachments"
    key = await write(storage, data)
    assert key == storage.key_for(hashlib.sha256(data).hexdigest())
    assert await storage.exists(key)
    assert await read(storage, key) == data
    assert await temporaries(storage) == []


async def test_a_blob_larger_than_one_part_round_trips(storage: Storage) -> None:
    data = os.urandom(PART * 2 + 12345)
    key = await write(storage, data, chunk=256 * 1024)
    assert await read(storage, key) == data
    assert await read(storage, key, (PART - 10, PART + 9)) == data[PART - 10 : PART + 10]
    assert await temporaries(storage) == []


async def test_ranges_are_inclusive(storage: Storage) -> None:
    data = bytes(range(256)) * 10
    key = await write(storage, data)
    assert await read(storage, key, (0, 0)) == data[:1]
    assert await read(storage, key, (100, 355)) == data[100:356]
    assert await read(storage, key, (len(data) - 5, len(data) - 1)) == data[-5:]


async def test_abort_leaves_nothing_behind(storage: Storage) -> None:
    data = os.urandom(PART + 100)
    writer = await storage.open_writer()
    await writer.write(data)
    await writer.abort()
    await writer.abort()  # idempotent
    assert not await storage.exists(storage.key_for(hashlib.sha256(data).hexdigest()))
    assert await temporaries(storage) == []


async def test_writing_the_same_bytes_twice_keeps_one_blob(storage: Storage) -> None:
    data = os.urandom(1000)
    assert await write(storage, data) == await write(storage, data)
    assert await temporaries(storage) == []


async def test_delete_removes_the_blob_and_is_idempotent(storage: Storage) -> None:
    key = await write(storage, b"to be deleted")
    await storage.delete(key)
    assert not await storage.exists(key)
    await storage.delete(key)


async def test_reading_a_blob_that_is_gone_raises_blob_missing(storage: Storage) -> None:
    key = await write(storage, b"soon gone")
    await storage.delete(key)
    with pytest.raises(BlobMissing):
        await anext(storage.open_reader(key))
    with pytest.raises(BlobMissing):
        await anext(storage.open_reader(key, (0, 3)))


async def test_commit_refuses_anything_but_a_sha256(storage: Storage) -> None:
    writer = await storage.open_writer()
    await writer.write(b"x")
    with pytest.raises(ValueError, match="sha256"):
        await writer.commit("../../etc/passwd")
    await writer.abort()


async def test_keys_that_are_not_ours_are_refused(storage: Storage) -> None:
    with pytest.raises(ValueError, match="storage key"):
        await storage.exists("../../etc/passwd")


@pytest.mark.parametrize("size", [100, 2 * 1024 * 1024, PART + 1])
async def test_finish_then_commit_round_trips(storage: Storage, size: int) -> None:
    data = os.urandom(size)
    writer = await storage.open_writer()
    await writer.write(data)
    await writer.finish()
    key = await writer.commit(hashlib.sha256(data).hexdigest())
    assert await read(storage, key) == data
    assert await temporaries(storage) == []


@pytest.mark.parametrize("size", [100, 2 * 1024 * 1024, PART + 1])
async def test_finish_then_abort_leaves_nothing(storage: Storage, size: int) -> None:
    data = os.urandom(size)
    writer = await storage.open_writer()
    await writer.write(data)
    await writer.finish()
    await writer.abort()
    assert not await storage.exists(storage.key_for(hashlib.sha256(data).hexdigest()))
    assert await temporaries(storage) == []
