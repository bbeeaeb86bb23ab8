"""HTTP routes of the attachments service, under /api/attachments."""

from __future__ import annotations

import urllib.parse
import uuid
from collections.abc import AsyncIterator

import asyncpg
from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from starlette.requests import ClientDisconnect

from attachments.adapters.storage import Storage
from attachments.api.deps import AppSettings, BlobStorage, Pool
from attachments.api.schemas import UPLOAD_OPENAPI, AttachmentMeta, AttachmentUploaded
from attachments.app.downloads import opened, readable_attachment, requested_range
from attachments.app.receiving import UploadLimits, receive_upload
from attachments.app.uploads import CaseLimits, store_upload
from attachments.config import Settings
from casefold_platform.auth import CurrentPrincipal, Principal
from casefold_platform.openapi import problems
from casefold_platform.problems import MalformedBody

router = APIRouter(prefix="/api/attachments", tags=["attachments"])

NOT_READABLE = "no such attachment, or one the caller may not read (the same answer)"
UPLOAD_PROBLEMS = problems(
    {
        400: "the multipart body is malformed or truncated",
        404: "case_id names no case the caller may add to",
        409: "the case is closed, or it holds as many files as it may",
        413: "a file, the request or the case's total is larger than the limit, or too many files at once",
        415: "not multipart/form-data, or a type of file that is not accepted (checked by content)",
        422: "no file part, an unexpected field, an empty file or a case_id that is not a UUID",
    }
)


def _content_disposition(filename: str) -> str:
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\;' else "_" for ch in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{urllib.parse.quote(filename, safe='')}"


async def _body(request: Request) -> AsyncIterator[bytes]:
    try:
        async for chunk in request.stream():
            if chunk:
                yield chunk
    except ClientDisconnect:
        raise MalformedBody("The upload was interrupted before the body ended.") from None


async def receive_and_store(
    request: Request,
    principal: Principal,
    pool: asyncpg.Pool,
    storage: Storage,
    settings: Settings,
    *,
    max_files: int,
    attachment_ids: list[uuid.UUID] | None = None,
) -> list[AttachmentUploaded]:
    """An upload body's files sniffed, checked against every limit and stored for principal (or none of them)."""
    limits = UploadLimits(settings.max_file_bytes, max_files, settings.max_part_header_bytes)
    received = await receive_upload(_body(request), request.headers.get("content-type"), storage, limits)
    stored = await store_upload(
        pool,
        storage,
        received,
        principal,
        case_limits=CaseLimits(settings.max_files_per_case, settings.max_bytes_per_case),
        receipt_key=settings.receipt_key_bytes,
        receipt_ttl=settings.unlinked_ttl,
        attachment_ids=attachment_ids,
    )
    return [
        AttachmentUploaded(
            id=s.id,
            filename=s.filename,
            size=s.size,
            content_type=s.content_type,
            sha256=s.sha256,
            reference=s.reference,
        )
        for s in stored
    ]


@router.post(
    "",
    status_code=201,
    response_model=list[AttachmentUploaded],
    openapi_extra=UPLOAD_OPENAPI,
    responses=UPLOAD_PROBLEMS,
)
async def upload(
    request: Request, principal: CurrentPrincipal, pool: Pool, storage: BlobStorage, settings: AppSettings
) -> list[AttachmentUploaded]:
    """Upload one or more files (multipart `file` parts); returns each with a reference for the cases service."""
    return await receive_and_store(request, principal, pool, storage, settings,
                                   max_files=settings.max_files_per_request)  # fmt: skip


@router.get("/{attachment_id}/meta", response_model=AttachmentMeta, responses=problems({404: NOT_READABLE}))
async def metadata(attachment_id: uuid.UUID, principal: CurrentPrincipal, pool: Pool) -> AttachmentMeta:
    """The metadata of an attachment the caller may read."""
    async with pool.acquire() as conn:
        row = await readable_attachment(conn, attachment_id, principal)
    return AttachmentMeta(
        id=row.id, filename=row.filename, size=row.size, content_type=row.content_type, sha256=row.sha256,
        uploaded_by=row.uploaded_by, uploaded_at=row.uploaded_at, case_id=row.linked_case_id, linked_at=row.linked_at,
    )  # fmt: skip


@router.get(
    "/{attachment_id}",
    response_class=StreamingResponse,
    responses={
        # The bytes as uploaded, with the content type the upload was sniffed as.
        200: {"content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}},
        206: {
            "description": "the requested range",
            "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
        },
        **problems(
            {
                404: NOT_READABLE,
                410: "the file's bytes are no longer in the store",
                416: "the Range header asks for bytes the file does not have",
            }
        ),
    },
)
async def download(
    attachment_id: uuid.UUID, request: Request, principal: CurrentPrincipal, pool: Pool, storage: BlobStorage
) -> Response:
    """The attachment's bytes, as a download (single byte ranges supported)."""
    async with pool.acquire() as conn:
        row = await readable_attachment(conn, attachment_id, principal)
    byte_range = requested_range(request.headers.get("range"), row.size)
    headers = {
        "Content-Disposition": _content_disposition(row.filename),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, no-cache",
        "Accept-Ranges": "bytes",
        "ETag": f'"{row.sha256}"',
    }
    if byte_range is None:
        headers["Content-Length"] = str(row.size)
        body = await opened(row.id, storage.open_reader(row.storage_key))
        return StreamingResponse(body, media_type=row.content_type, headers=headers)
    first, last = byte_range
    headers["Content-Length"] = str(last - first + 1)
    headers["Content-Range"] = f"bytes {first}-{last}/{row.size}"
    body = await opened(row.id, storage.open_reader(row.storage_key, byte_range))
    return StreamingResponse(body, status_code=206, media_type=row.content_type, headers=headers)
