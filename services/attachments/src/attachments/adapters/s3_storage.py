"""Blobs in an S3-compatible bucket (aiobotocore), content-addressed under blobs/<sha256>.

A small file (up to 1 MiB) stays buffered and is put straight under its final key once its digest is known. A
larger one goes to a temporary key (one put, or a multipart upload when it exceeds a part), then is copied to its
final key and the temporary object deleted: S3 has no rename, and the final key depends on every byte. So a request
of many files holds at most one part in memory, plus 1 MiB per small file.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError, ReadTimeoutError
from botocore.exceptions import ConnectionError as BotoConnectionError

from attachments.adapters.storage import READ_CHUNK_BYTES, BlobMissing, check_sha256
from casefold_events.transient import TransientError

_KEY = re.compile(r"blobs/[0-9a-f]{64}")
TMP_PREFIX = "tmp/"
SMALL_OBJECT_BYTES = 1024 * 1024


# The store could not be reached (refused, timed out, connection dropped): a 503 for the request, try again.
_UNREACHABLE = (EndpointConnectionError, BotoConnectionError, ConnectionClosedError, ReadTimeoutError)


def _missing(exc: ClientError) -> bool:
    code = str(exc.response.get("Error", {}).get("Code", ""))
    return code in ("404", "NoSuchKey", "NotFound")


class S3Writer:
    """Buffers up to one part; beyond that streams parts of a multipart upload to the temporary key."""

    def __init__(self, storage: S3Storage) -> None:
        self._storage = storage
        self._bucket = storage.bucket
        self._buffer = bytearray()
        self._temp_key = f"{TMP_PREFIX}{uuid.uuid4().hex}"
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []
        self._temp_written = False
        self._done = False

    async def write(self, chunk: bytes) -> None:
        self._buffer += chunk
        while len(self._buffer) >= self._storage.part_bytes:
            part = bytes(self._buffer[: self._storage.part_bytes])
            del self._buffer[: self._storage.part_bytes]
            await self._upload_part(part)

    async def _upload_part(self, data: bytes) -> None:
        if self._upload_id is None:
            created = await self._storage.call("create_multipart_upload", Bucket=self._bucket, Key=self._temp_key)
            self._upload_id = str(created["UploadId"])
        number = len(self._parts) + 1
        answer = await self._storage.call(
            "upload_part",
            Bucket=self._bucket,
            Key=self._temp_key,
            UploadId=self._upload_id,
            PartNumber=number,
            Body=data,
        )
        self._parts.append({"PartNumber": number, "ETag": answer["ETag"]})

    async def finish(self) -> None:
        if self._upload_id is not None:
            if self._buffer:
                await self._upload_part(bytes(self._buffer))
            await self._storage.call(
                "complete_multipart_upload",
                Bucket=self._bucket,
                Key=self._temp_key,
                UploadId=self._upload_id,
                MultipartUpload={"Parts": self._parts},
            )
            self._upload_id = None
        elif len(self._buffer) > SMALL_OBJECT_BYTES:
            await self._storage.call("put_object", Bucket=self._bucket, Key=self._temp_key, Body=bytes(self._buffer))
        else:
            return
        self._temp_written = True
        self._buffer = bytearray()

    async def commit(self, sha256: str) -> str:
        key = self._storage.key_for(check_sha256(sha256))
        if self._upload_id is not None or len(self._buffer) > SMALL_OBJECT_BYTES:
            await self.finish()
        if self._temp_written:
            await self._storage.call(
                "copy_object", Bucket=self._bucket, Key=key, CopySource={"Bucket": self._bucket, "Key": self._temp_key}
            )
            await self._storage.call("delete_object", Bucket=self._bucket, Key=self._temp_key)
            self._temp_written = False
        else:
            await self._storage.call("put_object", Bucket=self._bucket, Key=key, Body=bytes(self._buffer))
        self._buffer = bytearray()
        self._done = True
        return key

    async def abort(self) -> None:
        if self._done:
            return
        self._done = True
        self._buffer = bytearray()
        if self._upload_id is not None:
            await self._storage.call(
                "abort_multipart_upload", Bucket=self._bucket, Key=self._temp_key, UploadId=self._upload_id
            )
            self._upload_id = None
        if self._temp_written:
            await self._storage.call("delete_object", Bucket=self._bucket, Key=self._temp_key)
            self._temp_written = False


class S3Storage:
    """The production backend; `client` is an aiobotocore S3 client whose lifetime the app's lifespan owns."""

    def __init__(self, client: Any, bucket: str, *, part_bytes: int = 8 * 1024 * 1024) -> None:
        self.client = client
        self.bucket = bucket
        self.part_bytes = part_bytes

    async def call(self, operation: str, **arguments: Any) -> Any:
        """One S3 operation; an unreachable store raises TransientError (503 to a request, retried by workers)."""
        try:
            return await getattr(self.client, operation)(**arguments)
        except _UNREACHABLE as exc:
            raise TransientError(f"the object store cannot be reached ({type(exc).__name__})") from exc

    @staticmethod
    def key_for(sha256: str) -> str:
        return f"blobs/{sha256}"

    @staticmethod
    def _checked(key: str) -> str:
        if not _KEY.fullmatch(key):
            raise ValueError("not a storage key of this backend")
        return key

    async def ensure_bucket(self) -> None:
        try:
            await self.call("head_bucket", Bucket=self.bucket)
        except ClientError:
            await self.call("create_bucket", Bucket=self.bucket)

    async def open_writer(self) -> S3Writer:
        return S3Writer(self)

    async def open_reader(self, key: str, byte_range: tuple[int, int] | None = None) -> AsyncIterator[bytes]:
        extra = {"Range": f"bytes={byte_range[0]}-{byte_range[1]}"} if byte_range is not None else {}
        try:
            answer = await self.call("get_object", Bucket=self.bucket, Key=self._checked(key), **extra)
        except ClientError as exc:
            if _missing(exc):
                raise BlobMissing(key) from None
            raise
        body = answer["Body"]
        try:
            while chunk := await body.read(READ_CHUNK_BYTES):
                yield chunk
        finally:
            await body.aclose()

    async def delete(self, key: str) -> None:
        await self.call("delete_object", Bucket=self.bucket, Key=self._checked(key))

    async def exists(self, key: str) -> bool:
        try:
            await self.call("head_object", Bucket=self.bucket, Key=self._checked(key))
        except ClientError as exc:
            if _missing(exc):
                return False
            raise
        return True

    async def stale_temporaries(self, older_than_seconds: float) -> int:
        """Abort multipart uploads and delete objects under tmp/ that a crashed process left behind."""
        limit = datetime.now(UTC) - timedelta(seconds=older_than_seconds)
        removed = 0
        markers: dict[str, str] = {}
        while True:
            page = await self.call("list_multipart_uploads", Bucket=self.bucket, Prefix=TMP_PREFIX, **markers)
            for upload in page.get("Uploads", []):
                if upload["Initiated"] < limit:
                    await self.call("abort_multipart_upload", Bucket=self.bucket, Key=upload["Key"],
                                    UploadId=upload["UploadId"])  # fmt: skip
                    removed += 1
            if not page.get("IsTruncated"):
                break
            markers = {"KeyMarker": page["NextKeyMarker"], "UploadIdMarker": page["NextUploadIdMarker"]}
        token: dict[str, str] = {}
        while True:
            page = await self.call("list_objects_v2", Bucket=self.bucket, Prefix=TMP_PREFIX, **token)
            for item in page.get("Contents", []):
                if item["LastModified"] < limit:
                    await self.call("delete_object", Bucket=self.bucket, Key=item["Key"])
                    removed += 1
            if not page.get("IsTruncated"):
                return removed
            token = {"ContinuationToken": page["NextContinuationToken"]}


def s3_config() -> AioConfig:
    # Recent botocore sends CRC checksums with aws-chunked bodies by default, which several S3-compatible servers
    # do not understand: ask for checksums only where the API requires them.
    return AioConfig(
        signature_version="s3v4",
        s3={"addressing_style": "path"},
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        retries={"max_attempts": 3, "mode": "standard"},
    )


@asynccontextmanager
async def open_s3_storage(
    endpoint_url: str | None,
    bucket: str,
    *,
    region: str,
    access_key_id: str | None,
    secret_access_key: str | None,
    part_bytes: int,
    create_bucket: bool,
) -> AsyncIterator[S3Storage]:
    async with get_session().create_client(
        "s3",
        region_name=region,
        endpoint_url=endpoint_url,
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        config=s3_config(),
    ) as client:
        storage = S3Storage(client, bucket, part_bytes=part_bytes)
        if create_bucket:
            await storage.ensure_bucket()
        yield storage
