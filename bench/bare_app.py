"""The bare-endpoint baseline of `python -m bench http`: FastAPI, the open-case body validated by pydantic, one INSERT.

Served like the cases service (`python -m uvicorn --factory bench.bare_app:create_app`, one worker, the platform's
pool sizes): what HTTP + validation + one durable row cost on this machine, with nothing of ours on top.
BARE_DATABASE_URL names its database.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from casefold_platform.settings import ServiceSettings
from cases.api.schemas import CaseCreate

TABLE = "CREATE TABLE IF NOT EXISTS bare_cases (id uuid PRIMARY KEY, body jsonb NOT NULL, at timestamptz NOT NULL)"


def create_app() -> FastAPI:
    dsn = os.environ["BARE_DATABASE_URL"]
    defaults = ServiceSettings.model_fields

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await asyncpg.create_pool(dsn, min_size=defaults["pool_min_size"].default,
                                         max_size=defaults["pool_max_size"].default)  # fmt: skip
        assert pool is not None
        await pool.execute(TABLE)
        app.state.pool = pool
        yield
        await pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.post("/api/cases", status_code=201)
    async def open_case(body: CaseCreate) -> JSONResponse:
        """Store the validated body as one row."""
        case_id = uuid.uuid4()
        document = body.model_dump(mode="json")
        await app.state.pool.execute("INSERT INTO bare_cases VALUES ($1, $2::jsonb, now())", case_id,
                                     json.dumps(document))  # fmt: skip
        return JSONResponse({"id": str(case_id), **document}, status_code=201)

    @app.get("/readyz")
    async def readyz() -> dict[str, str]:
        """Ready once the pool is up."""
        return {"status": "ready"}

    return app
