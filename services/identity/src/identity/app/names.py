"""Display-name availability, by the same rules as sign-up (validation, then the look-alike key)."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from casefold_platform.problems import InvalidInput, RateLimited
from identity.adapters import rate_limits, users
from identity.app.common import NAME_TAKEN, Identity, transact
from identity.domain.display_names import clean_display_name

MINUTE = 60


@dataclass(frozen=True)
class Availability:
    available: bool
    reason: str | None


async def availability(ctx: Identity, display_name: str, client_address: str) -> Availability:
    """Whether sign-up would accept the name now; a name it would refuse says which rule it breaks."""
    limit = ctx.settings.name_checks_per_address_per_minute

    async def work(conn: asyncpg.Connection) -> int | None:
        return await rate_limits.take(conn, f"names:addr:{client_address}", limit=limit, window_seconds=MINUTE)

    wait = await transact(ctx.pool, work)
    if wait is not None:
        raise RateLimited("Too many display name checks; try again shortly.", retry_after=wait)
    try:
        name = clean_display_name(display_name)
    except InvalidInput as exc:
        return Availability(False, exc.detail)
    if await users.display_name_taken(ctx.pool, name):
        return Availability(False, NAME_TAKEN)
    return Availability(True, None)
