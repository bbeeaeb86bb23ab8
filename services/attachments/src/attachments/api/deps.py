"""Annotated dependencies of the attachments API, read from app.state (set up once in the lifespan)."""

from __future__ import annotations

from typing import Annotated

import asyncpg
from fastapi import Depends, Request

from attachments.adapters.storage import Storage
from attachments.config import Settings


def _pool(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.app.state.pool
    return pool


def _storage(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


Pool = Annotated[asyncpg.Pool, Depends(_pool)]
BlobStorage = Annotated[Storage, Depends(_storage)]
AppSettings = Annotated[Settings, Depends(_settings)]
