"""The running service and an S3 server for the attachments integration tests (fixtures live in conftest.py)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
from fastapi import FastAPI

from attachments.config import Settings
from attachments.main import create_app
from casefold_events.platform.auth import JwksVerifier
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
