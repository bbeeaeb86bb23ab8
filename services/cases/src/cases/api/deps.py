"""Annotated dependencies: the caller, and what command and read routes need (each from one dependency)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Header, Request

from casefold_events.envelope import Actor, Metadata
from casefold_events.idempotency import MAX_KEY_LENGTH
from casefold_platform.auth import CurrentPrincipal, Principal
from casefold_platform.problems import request_id_of
from casefold_platform.tracing import current_traceparent
from cases.app.handlers import CommandDeps
from cases.app.queries import QueryDeps
from cases.config import Settings
from cases.domain.commands import Caller


def _caller_of(principal: Principal) -> Caller:
    """The token's principal as the one caller type of cases (commands and reads alike)."""
    return Caller(user_id=principal.user_id, role=principal.role, email_verified=principal.email_verified)


async def _caller(principal: CurrentPrincipal) -> Caller:
    return _caller_of(principal)


def _metadata(request: Request, principal: Principal) -> Metadata:
    try:
        correlation_id: UUID | None = UUID(request_id_of(request))
    except ValueError:
        correlation_id = None
    return Metadata(
        actor=Actor(user_id=principal.user_id, role=principal.role),
        correlation_id=correlation_id,
        traceparent=current_traceparent(),
    )


@dataclass(frozen=True)
class CommandCall:
    """What a command route needs: the caller, the metadata of the events it records, the handlers' dependencies."""

    caller: Caller
    metadata: Metadata
    deps: CommandDeps


@dataclass(frozen=True)
class ReadCall:
    """What a read route needs: the viewer, the queries' dependencies and the settings."""

    viewer: Caller
    deps: QueryDeps
    settings: Settings


# One dependency per route, not one per part: FastAPI solves every sub-dependency of every request again (its cache
# key, scopes and kind of callable each time), and the three parts a command took cost about 6% of its CPU.
async def _command_call(request: Request, principal: CurrentPrincipal) -> CommandCall:
    state = request.app.state
    return CommandCall(_caller_of(principal), _metadata(request, principal), state.commands)


async def _read_call(request: Request, principal: CurrentPrincipal) -> ReadCall:
    state = request.app.state
    return ReadCall(_caller_of(principal), state.queries, state.settings)


async def _commands(request: Request) -> CommandDeps:
    deps: CommandDeps = request.app.state.commands
    return deps


CurrentCaller = Annotated[Caller, Depends(_caller)]
Command = Annotated[CommandCall, Depends(_command_call)]
Commands = Annotated[CommandDeps, Depends(_commands)]  # internal routes: no caller's token
Read = Annotated[ReadCall, Depends(_read_call)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=MAX_KEY_LENGTH,
        description="a repeat with the same key returns the first result and changes nothing",
    ),
]
