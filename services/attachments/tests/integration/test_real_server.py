"""Through a real uvicorn socket: memory stays bounded while a large file streams, a client that goes away
mid-upload leaves nothing behind, and oversized HTTP headers are refused."""

from __future__ import annotations

import asyncio
import hashlib
import tracemalloc
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
import uvicorn
from attachments_builders import BOUNDARY, CONTENT_TYPE, LOG
from attachments_harness import service_settings

from attachments.config import Settings
from attachments.main import create_app
from casefold_local.procs import free_port
from casefold_platform.auth import JwksVerifier
from casefold_testing.tokens import TestTokenIssuer

pytestmark = pytest.mark.integration

OWNER = uuid.uuid4()
FILE_BYTES = 20 * 1024 * 1024


class RealServer:
    def __init__(self, base_url: str, settings: Settings) -> None:
        self.base_url = base_url
        self.settings = settings
        self.port = int(base_url.rsplit(":", 1)[1])


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def server(
    database: str, issuer: TestTokenIssuer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RealServer]:
    settings = service_settings(database, tmp_path_factory.mktemp("blobs"), max_file_bytes=25 * 1024 * 1024)
    app = create_app(settings, verifier=JwksVerifier.from_jwks(issuer.jwks()))
    port = free_port()
    uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on"))
    task = asyncio.create_task(uv.serve())
    try:
        async with asyncio.timeout(30):
            while not uv.started:
                await asyncio.sleep(0.05)
        yield RealServer(f"http://127.0.0.1:{port}", settings)
    finally:
        uv.should_exit = True
        await task


def _preamble(filename: str) -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: text/plain\r\n\r\n"
    ).encode()


async def _body(size: int, digest: hashlib._Hash) -> AsyncIterator[bytes]:
    yield _preamble("big.log")
    line = LOG[: 64 * 1024]
    sent = 0
    while sent < size:
        chunk = (line * (64 * 1024 // len(line) + 1))[: min(64 * 1024, size - sent)]
        digest.update(chunk)
        sent += len(chunk)
        yield chunk
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


def _temporaries(server: RealServer) -> list[Path]:
    return list((Path(server.settings.storage_dir) / "tmp").iterdir())


async def test_a_large_upload_streams_in_bounded_memory(server: RealServer, issuer: TestTokenIssuer) -> None:
    digest = hashlib.sha256()
    tracemalloc.start()
    try:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as client:
            response = await client.post(
                "/api/attachments",
                content=_body(FILE_BYTES, digest),
                headers={**issuer.auth_header(user_id=OWNER), "Content-Type": CONTENT_TYPE},
            )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 201, response.text
    assert response.json()[0]["size"] == FILE_BYTES
    assert response.json()[0]["sha256"] == digest.hexdigest()
    assert peak < 8 * 1024 * 1024, f"peak traced memory {peak} bytes for a {FILE_BYTES}-byte upload"


async def test_a_client_that_disconnects_mid_upload_leaves_nothing(server: RealServer, issuer: TestTokenIssuer) -> None:
    _, writer = await asyncio.open_connection("127.0.0.1", server.port)
    head = (
        f"POST /api/attachments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {issuer.mint(user_id=OWNER)}\r\n"
        f"Content-Type: {CONTENT_TYPE}\r\nContent-Length: {5 * 1024 * 1024}\r\n\r\n"
    )
    writer.write(head.encode() + _preamble("cut.log") + LOG * 2000)
    await writer.drain()
    async with asyncio.timeout(10):
        while not _temporaries(server):  # the part is being streamed to storage
            await asyncio.sleep(0.02)
    writer.close()
    await writer.wait_closed()
    async with asyncio.timeout(10):
        while _temporaries(server):
            await asyncio.sleep(0.05)


async def test_oversized_http_headers_are_refused(server: RealServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"GET /api/attachments/x HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n")
    await writer.drain()
    async with asyncio.timeout(10):
        status_line = await reader.readline()
    writer.close()
    assert status_line == b"" or status_line.split()[1].startswith(b"4")
