"""Annotated dependencies: the caller, the event metadata of a request, and the handlers' dependencies."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, Header, Request

from casefold_events.envelope import Actor, Metadata
from casefold_events.idempotency import MAX_KEY_LENGTH
from casefold_platform.auth import CurrentPrincipal
from casefold_platform.problems import request_id_of
from casefold_platform.tracing import current_traceparent
from cases.app.handlers import CommandDeps
from cases.app.queries import QueryDeps
from cases.config import Settings
from cases.domain.commands import Caller


async def _caller(principal: CurrentPrincipal) -> Caller:
    """The token's principal as the one caller type of cases (commands and reads alike)."""
    return Caller(user_id=principal.user_id, role=principal.role, email_verified=principal.email_verified)


async def _metadata(request: Request, principal: CurrentPrincipal) -> Metadata:
    try:
        correlation_id: UUID | None = UUID(request_id_of(request))
    except ValueError:
        correlation_id = None
    return Metadata(
        actor=Actor(user_id=principal.user_id, role=principal.role),
        correlation_id=correlation_id,
        traceparent=current_traceparent(),
    )


async def _commands(request: Request) -> CommandDeps:
    deps: CommandDeps = request.app.state.commands
    return deps


async def _queries(request: Request) -> QueryDeps:
    deps: QueryDeps = request.app.state.queries
    return deps


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


CurrentCaller = Annotated[Caller, Depends(_caller)]
EventMetadata = Annotated[Metadata, Depends(_metadata)]
Commands = Annotated[CommandDeps, Depends(_commands)]
Queries = Annotated[QueryDeps, Depends(_queries)]
AppSettings = Annotated[Settings, Depends(_settings)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=MAX_KEY_LENGTH,
        description="a repeat with the same key returns the first result and changes nothing",
    ),
]
