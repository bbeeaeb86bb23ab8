"""Fixtures for the platform helpers: captured JSON log lines, an in-memory span exporter, a token issuer."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import asyncpg
import pytest
import structlog
from fastapi import FastAPI, HTTPException, Request
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import TracerProvider as TracerProviderApi
from pydantic import BaseModel, Field

from casefold_platform.app import service_app
from casefold_platform.auth import AgentPrincipal, CurrentPrincipal, JwksVerifier
from casefold_platform.logging import configure_logging
from casefold_platform.problems import Conflict, FieldError, InvalidInput, NotFound, RateLimited
from casefold_platform.tracing import build_tracer_provider
from casefold_testing.tokens import TestTokenIssuer

LogLines = Callable[[], list[dict[str, Any]]]
AppFactory = Callable[..., FastAPI]


@pytest.fixture
def log_lines() -> Iterator[LogLines]:
    """Logging configured for service "test" into a buffer; call the fixture's value to read the parsed lines."""
    buffer = io.StringIO()
    configure_logging("test", level="DEBUG", stream=buffer)
    yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines() if line]
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == "casefold-json"]:
        root.removeHandler(handler)
    structlog.reset_defaults()


@pytest.fixture
def spans() -> InMemorySpanExporter:
    """Finished spans of `provider`, exported synchronously."""
    return InMemorySpanExporter()


@pytest.fixture
def provider(spans: InMemorySpanExporter) -> TracerProvider:
    """A tracer provider for this test only (the global one is left alone)."""
    return build_tracer_provider("test", exporter=spans)


@pytest.fixture
def issuer() -> TestTokenIssuer:
    """A fresh signing key, as identity would hold."""
    return TestTokenIssuer()


@pytest.fixture
def app_factory() -> AppFactory:
    """Builds a demo service app exercising every error path."""
    return _build_app


class CaseCreate(BaseModel):
    subject: str
    severity: int = Field(ge=1, le=3)


class CaseClosed(Conflict):
    slug = "case-closed"
    title = "Case is closed"


def _build_app(
    *,
    max_body_bytes: int = 1024,
    verifier: JwksVerifier | None = None,
    tracer_provider: TracerProviderApi | None = None,
) -> FastAPI:
    app = service_app("demo", max_body_bytes=max_body_bytes, tracer_provider=tracer_provider)
    app.state.jwt_verifier = verifier

    @app.post("/cases", status_code=201)
    async def open_case(body: CaseCreate) -> dict[str, object]:
        return {"subject": body.subject, "severity": body.severity}

    @app.post("/raw")
    async def raw(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    @app.get("/things/{thing_id}")
    async def thing(thing_id: int) -> dict[str, int]:
        if thing_id == 404:
            raise NotFound("No such thing.")
        return {"id": thing_id}

    @app.post("/cases/{case_id}/comments")
    async def comment(case_id: str) -> None:
        raise CaseClosed("The case is closed; open a new case.")

    @app.post("/products")
    async def add_product() -> None:
        raise InvalidInput("The product is not in the catalogue.", errors=[FieldError("body.product", "unknown")])

    @app.get("/slow-down")
    async def slow_down() -> None:
        raise RateLimited("Slow down.", retry_after=30)

    @app.get("/teapot")
    async def teapot() -> None:
        raise HTTPException(status_code=418, detail="I am a teapot")

    @app.get("/crash")
    async def crash() -> None:
        raise RuntimeError("connection to postgresql://admin:hunter2@db failed")

    @app.get("/database-down")
    async def database_down() -> None:
        raise asyncpg.CannotConnectNowError("the database system is starting up")

    @app.get("/refused")
    async def refused() -> None:
        raise ConnectionRefusedError(111, "Connection refused")

    @app.get("/me")
    async def me(principal: CurrentPrincipal) -> dict[str, object]:
        return {"user_id": str(principal.user_id), "role": principal.role}

    @app.get("/queue")
    async def queue(principal: AgentPrincipal) -> dict[str, str]:
        return {"agent": principal.display_name}

    return app
