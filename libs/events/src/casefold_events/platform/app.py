"""The skeleton every service's FastAPI app starts from: liveness and readiness endpoints."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse

ReadinessCheck = Callable[[FastAPI], Awaitable[None]]


def service_app(
    name: str,
    *,
    readiness: Sequence[tuple[str, ReadinessCheck]] = (),
    **fastapi_kwargs: Any,
) -> FastAPI:
    """A FastAPI app with /healthz (the process is alive) and /readyz (each named dependency answers)."""
    app = FastAPI(title=f"Casefold {name}", **fastapi_kwargs)
    app.state.service_name = name

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        """Liveness: the process serves requests."""
        return {"status": "ok", "service": name}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        """Readiness: every dependency this service needs answers."""
        checks: dict[str, str] = {}
        for check_name, check in readiness:
            try:
                await check(app)
                checks[check_name] = "ok"
            except Exception as exc:
                checks[check_name] = f"failing: {type(exc).__name__}"
        ok = all(v == "ok" for v in checks.values())
        return JSONResponse({"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503)

    return app
