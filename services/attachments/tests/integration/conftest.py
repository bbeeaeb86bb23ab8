"""Fixtures for the attachments integration tests: a real S3-compatible server, the app on a real database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from attachments_harness import (
    S3_KEY,
    S3_SECRET,
    S3Server,
    Service,
    running_service,
    service_settings,
    start_s3,
    stop_s3,
)

from casefold_local.procs import free_port
from casefold_testing.tokens import TestTokenIssuer


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A real S3-compatible server on a free port for the session; stopped at the end, on failure too."""
    port = free_port()
    process = start_s3(tmp_path_factory.mktemp("s3"), port)
    try:
        yield S3Server(f"http://127.0.0.1:{port}", S3_KEY, S3_SECRET)
    finally:
        stop_s3(process)


@pytest.fixture(scope="session")
def issuer() -> TestTokenIssuer:
    return TestTokenIssuer()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def service(
    database: str, tmp_path_factory: pytest.TempPathFactory, issuer: TestTokenIssuer
) -> AsyncIterator[Service]:
    async with running_service(service_settings(database, tmp_path_factory.mktemp("blobs")), issuer) as running:
        yield running
