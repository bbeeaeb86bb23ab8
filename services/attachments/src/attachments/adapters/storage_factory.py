"""Builds the configured storage backend; the S3 client lives as long as the returned context."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session

from attachments.adapters.fs_storage import FilesystemStorage
from attachments.adapters.s3_storage import S3Storage
from attachments.adapters.storage import Storage
from attachments.config import Settings


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


@asynccontextmanager
async def open_storage(settings: Settings) -> AsyncIterator[Storage]:
    """The backend ATTACHMENTS_STORAGE_BACKEND names."""
    if settings.storage_backend == "filesystem":
        yield FilesystemStorage(settings.storage_dir, fsync=settings.storage_fsync)
        return
    secret = settings.s3_secret_access_key.get_secret_value() if settings.s3_secret_access_key else None
    async with open_s3_storage(
        settings.s3_endpoint_url,
        settings.s3_bucket,
        region=settings.s3_region,
        access_key_id=settings.s3_access_key_id,
        secret_access_key=secret,
        part_bytes=settings.s3_part_bytes,
        create_bucket=settings.s3_create_bucket or settings.environment != "production",
    ) as storage:
        yield storage
