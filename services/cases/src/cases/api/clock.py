"""POST /internal/clock: moves the controllable clock (CASES_CONTROLLABLE_CLOCK=true only; otherwise the route does
not exist and the answer is 404). Never routed by the gateway; the caller shows X-Internal-Key."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Header, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from casefold_platform.problems import Unauthorized
from cases.adapters.sla_clock import ControllableClock
from cases.api.problems import EVERY_ROUTE, problems
from cases.config import Settings

# A year at most per call: enough for any target, small enough that a typo does not end the world.
MAX_ADVANCE_SECONDS = 366 * 24 * 3600


async def _internal_key(request: Request, x_internal_key: Annotated[str | None, Header()] = None) -> None:
    settings: Settings = request.app.state.settings
    expected = settings.internal_api_key.get_secret_value()
    if x_internal_key is None or not hmac.compare_digest(x_internal_key.encode(), expected.encode()):
        raise Unauthorized("This route is for Casefold tests and tools only.")


clock_routes = APIRouter(prefix="/internal", tags=["internal"], responses=EVERY_ROUTE,
                         dependencies=[Depends(_internal_key)])  # fmt: skip


class Advance(BaseModel):
    model_config = ConfigDict(extra="forbid")

    advance_seconds: int = Field(ge=0, le=MAX_ADVANCE_SECONDS, description="how far to move now forward")


class ClockRead(BaseModel):
    now: datetime


@clock_routes.post("/clock", responses=problems(401, 422))
async def advance_clock(body: Advance, request: Request) -> ClockRead:
    """Move the cases service's clock (API and SLA worker) forward; the new now."""
    clock: ControllableClock = request.app.state.clock
    now = await clock.advance(request.app.state.pool, body.advance_seconds)
    request.app.state.wake_sla_worker()
    return ClockRead(now=now)


def install(app: FastAPI) -> None:
    """The route, and a refresh of the shared offset before every request (other processes may have moved it)."""
    app.include_router(clock_routes)

    @app.middleware("http")
    async def refresh_clock(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        clock = getattr(request.app.state, "clock", None)
        if isinstance(clock, ControllableClock):
            await clock.refresh(request.app.state.pool)
        return await call_next(request)
